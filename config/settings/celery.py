"""Celery: tasks run in process by default (no broker needed); a broker URL turns the
real worker and beat on."""

from config.env import env

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
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
    # Access ending in three days, freezes that ran out: once per grant and end (dedup).
    "notify-access-ending": {
        "task": "billing.notify_access_ending",
        "schedule": env.float("PARTA_NOTIFY_ACCESS_ENDING_EVERY", default=3600.0),
    },
    # New topics opened in a course a student has: once per topic and student (dedup).
    "notify-topics-opened": {
        "task": "learning.notify_topics_opened",
        "schedule": env.float("PARTA_NOTIFY_TOPICS_OPENED_EVERY", default=900.0),
    },
}
