"""Celery tasks of learning (safe to run twice)."""

from celery import shared_task


@shared_task(name="learning.notify_topics_opened")
def notify_topics_opened() -> int:
    from parta.learning.notices import topics_opened_notify

    return topics_opened_notify()
