"""Parta's own settings: the school itself."""

from config.env import env

PARTA_SCHOOL_NAME = env.str("PARTA_SCHOOL_NAME", default="Parta")
# Where the site is reached from outside: links in emails and Telegram messages start here.
PARTA_SITE_URL = env.str("PARTA_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The footer links here ("Работает на Open Source").
PARTA_REPOSITORY_URL = env.str(
    "PARTA_REPOSITORY_URL", default="https://github.com/parta-school/parta"
)
# Phone numbers without a country code are read as numbers of this region.
PARTA_PHONE_REGION = env.str("PARTA_PHONE_REGION", default="RU")
# The school's time zone: day boundaries for streaks and charts are taken here.
PARTA_TIME_ZONE = env.str("PARTA_TIME_ZONE", default="Europe/Moscow")

# Chat: a student may ask a moderator about a task after this many wrong answers to it
# (a task may set its own number); messages a minute per person; attachments' size.
PARTA_CHAT_ASK_AFTER = env.int("PARTA_CHAT_ASK_AFTER", default=3)
PARTA_CHAT_MESSAGES_PER_MINUTE = env.int("PARTA_CHAT_MESSAGES_PER_MINUTE", default=20)
PARTA_MAX_ATTACHMENT_MB = env.int("PARTA_MAX_ATTACHMENT_MB", default=10)

# The support contacts shown in every page's footer (empty: not shown). Defaults only:
# staff change them, with the school's name, at /crm/settings/ (see config/settings/live.py).
PARTA_SUPPORT_EMAIL = env.str("PARTA_SUPPORT_EMAIL", default="")
PARTA_SUPPORT_TELEGRAM = env.str("PARTA_SUPPORT_TELEGRAM", default="")
PARTA_SUPPORT_PHONE = env.str("PARTA_SUPPORT_PHONE", default="")
