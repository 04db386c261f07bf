"""Live settings: values staff change at /crm/settings/ without a deploy (django-constance,
database backend). Each one starts as the environment's setting named in
parta.common.live.LIVE_SETTINGS, so nothing changes until someone edits it; once edited,
the stored value wins. Parta reads them through ``parta.common.live.live`` (its own cache,
cleared when they change), never through constance's ``config``; constance's own admin page
is removed (edits there would bypass the validation and the audit log)."""

CONSTANCE_BACKEND = "constance.backends.database.DatabaseBackend"
# No constance cache: parta.common.live caches all of them in one entry.
CONSTANCE_DATABASE_CACHE_BACKEND = None
CONSTANCE_SUPERUSER_ONLY = True
# Names and types only: the defaults are read from the environment's settings at the
# moment of reading (parta.common.live), so they follow the environment.
CONSTANCE_CONFIG = {
    "SCHOOL_NAME": ("", "School name", str),
    "SUPPORT_EMAIL": ("", "Support email", str),
    "SUPPORT_TELEGRAM": ("", "Support Telegram", str),
    "SUPPORT_PHONE": ("", "Support phone", str),
    "CHAT_ASK_AFTER": (0, "Wrong answers before a task thread", int),
    "TELEGRAM_RATE": (0, "Telegram messages a second", int),
    "SESSION_REMIND_MINUTES": (0, "Reminder lead time, minutes", int),
    "DEFAULT_GROUP_SIZE": (0, "Students per group of a new course", int),
}
