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
