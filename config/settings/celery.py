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
    # Mondays at 10:00 school time (CELERY_TIMEZONE); PARTA_DIGEST_EVERY (seconds) runs it
    # on an interval instead, for tests and demos (it is sent once per person and week).
    "news-weekly-digest": {
        "task": "news.weekly_digest",
        "schedule": env.float("PARTA_DIGEST_EVERY", default=0.0)
        or crontab(minute=0, hour=10, day_of_week="mon"),
    },
    # Access ending in three days, freezes that ran out: once per grant and end (dedup).
    "notify-access-ending": {
        "task": "billing.notify_access_ending",
        "schedule": env.float("PARTA_NOTIFY_ACCESS_ENDING_EVERY", default=3600.0),
    },
    # Plans that renew themselves: due charges and retries (once per period, whatever
    # reruns), and the reminder three days before each charge (once per period).
    "charge-renewals": {
        "task": "billing.charge_renewals",
        "schedule": env.float("PARTA_CHARGE_RENEWALS_EVERY", default=900.0),
    },
    "remind-renewals": {
        "task": "billing.remind_renewals",
        "schedule": env.float("PARTA_REMIND_RENEWALS_EVERY", default=3600.0),
    },
    # New topics opened in a course a student has: once per topic and student (dedup).
    "notify-topics-opened": {
        "task": "learning.notify_topics_opened",
        "schedule": env.float("PARTA_NOTIFY_TOPICS_OPENED_EVERY", default=900.0),
    },
    # Live sessions starting within PARTA_SESSION_REMIND_MINUTES: once per session, start
    # and person (dedup), so a run every minute reminds each person once.
    "remind-sessions": {
        "task": "groups.remind_sessions",
        "schedule": env.float("PARTA_SESSION_REMIND_EVERY", default=60.0),
    },
}

# The outbox's delivery (parta.notifications.delivery): due messages are drained by
# ``notifications.deliver_due`` (started on commit by ``notify`` and every few seconds by beat);
# ``notifications.sweep_leases`` turns messages whose worker died mid-send into ``unknown``.
CELERY_BEAT_SCHEDULE["deliver-notifications"] = {
    "task": "notifications.deliver_due",
    "schedule": env.float("PARTA_NOTIFY_DELIVER_EVERY", default=15.0),
}
CELERY_BEAT_SCHEDULE["sweep-notification-leases"] = {
    "task": "notifications.sweep_leases",
    "schedule": env.float("PARTA_NOTIFY_SWEEP_EVERY", default=60.0),
}
# Tries per message before it is ``failed`` (staff may resend it from the admin).
PARTA_NOTIFY_MAX_ATTEMPTS = env.int("PARTA_NOTIFY_MAX_ATTEMPTS", default=8)
# Backoff between tries: about BASE * 2^(try - 1) seconds (with jitter), at most MAX.
PARTA_NOTIFY_BACKOFF_SECONDS = env.float("PARTA_NOTIFY_BACKOFF_SECONDS", default=60.0)
PARTA_NOTIFY_BACKOFF_MAX_SECONDS = env.float("PARTA_NOTIFY_BACKOFF_MAX_SECONDS", default=14400.0)
# How long a worker may take to send one claimed message before it counts as dead and the
# message becomes ``unknown``; longer than any channel's timeout (EMAIL_TIMEOUT, Telegram's).
PARTA_NOTIFY_LEASE_SECONDS = env.float("PARTA_NOTIFY_LEASE_SECONDS", default=120.0)
# Messages a worker reserves per transaction (then claims one by one as it sends them), and
# how long the reservation holds: a killed worker's reserved messages are due again after it.
# Only the message being sent is in doubt when a worker is killed, whatever the batch.
PARTA_NOTIFY_CLAIM_BATCH = env.int("PARTA_NOTIFY_CLAIM_BATCH", default=20)
PARTA_NOTIFY_HOLD_SECONDS = env.float("PARTA_NOTIFY_HOLD_SECONDS", default=30.0)
# Threads one run of ``deliver_due`` sends with (each claims and sends one message at a time,
# so a killed worker leaves at most this many messages in doubt). Telegram answers in
# milliseconds but one chat at a time; several threads keep the shared limiter's rate busy.
# SQLite allows one writer: one thread there, unless set.
PARTA_NOTIFY_THREADS = env.int(
    "PARTA_NOTIFY_THREADS",
    default=4 if env.str("DATABASE_URL", default="").startswith(("postgres", "pgsql")) else 1,
)
# A send told to wait at most this long (Telegram's 429 retry_after) waits and tries again
# at once, up to three times, instead of going back to the queue.
PARTA_NOTIFY_INLINE_RETRY_SECONDS = env.float("PARTA_NOTIFY_INLINE_RETRY_SECONDS", default=5.0)
# One run of ``deliver_due`` stops claiming after this long and queues its successor.
PARTA_NOTIFY_TASK_SECONDS = env.float("PARTA_NOTIFY_TASK_SECONDS", default=50.0)
