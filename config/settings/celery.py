"""Celery: tasks run in process by default (no broker needed); a broker URL turns the
real worker and beat on."""

from celery.schedules import crontab

from config.env import env

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Crontab entries (the weekly digest) are in the school's time zone; interval entries and
# message timestamps do not depend on it (enable_utc stays on).
CELERY_TIMEZONE = env.str("PARTA_TIME_ZONE", default="Europe/Moscow")
# Periodic jobs (celery beat). Intervals in seconds, overridable for tests and demos.
CELERY_BEAT_SCHEDULE = {
    "expire-grants": {
        "task": "billing.expire_grants",
        "schedule": env.float("PARTA_EXPIRE_GRANTS_EVERY", default=600.0),
    },
    "expire-checkouts": {
        "task": "billing.expire_checkouts",
        "schedule": env.float("PARTA_EXPIRE_CHECKOUTS_EVERY", default=300.0),
    },
    "news-publish-due": {
        "task": "news.publish_due",
        "schedule": env.float("PARTA_NEWS_PUBLISH_EVERY", default=60.0),
    },
    # Mondays at 10:00 school time (CELERY_TIMEZONE).
    "news-weekly-digest": {
        "task": "news.weekly_digest",
        "schedule": crontab(minute=0, hour=10, day_of_week="mon"),
    },
}
