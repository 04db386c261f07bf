"""Celery tasks: thin wrappers over the live sessions' services (safe to run twice)."""

from celery import shared_task

from parta.groups.sessions import sessions_remind


@shared_task(name="groups.remind_sessions")
def remind_sessions() -> int:
    return sessions_remind()
