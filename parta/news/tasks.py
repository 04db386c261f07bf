"""Celery tasks: thin wrappers over the news services (safe to run twice)."""

from celery import shared_task

from parta.news.digest import digest_send
from parta.news.services import broadcast_run, posts_publish_due


@shared_task(name="news.broadcast")
def broadcast(post_id: int) -> None:
    broadcast_run(post_id=post_id)


@shared_task(name="news.publish_due")
def publish_due() -> int:
    return posts_publish_due()


@shared_task(name="news.weekly_digest")
def weekly_digest() -> int:
    return digest_send()
