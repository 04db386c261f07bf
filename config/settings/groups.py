"""Study groups and live sessions (parta.groups)."""

from config.env import env

# How many groups are made at once when every group of a course is full.
PARTA_GROUPS_BATCH = env.int("PARTA_GROUPS_BATCH", default=3)
