"""Study groups and live sessions (parta.groups)."""

from config.env import env

# How many groups are made at once when every group of a course is full.
PARTA_GROUPS_BATCH = env.int("PARTA_GROUPS_BATCH", default=3)

# Live sessions: a meeting link left empty becomes a room under this base URL.
PARTA_JITSI_BASE_URL = env.str("PARTA_JITSI_BASE_URL", default="https://meet.jit.si/")
# The reminder with the meeting link goes out this many minutes before the start.
PARTA_SESSION_REMIND_MINUTES = env.int("PARTA_SESSION_REMIND_MINUTES", default=30)
# Students per group of a new course (each course then keeps its own number).
PARTA_DEFAULT_GROUP_SIZE = env.int("PARTA_DEFAULT_GROUP_SIZE", default=30)
