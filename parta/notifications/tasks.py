"""Celery tasks of the outbox (beat entries in config/settings/celery.py)."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_shutting_down

from parta.notifications import delivery


@worker_shutting_down.connect
def _stop_delivering(**kwargs) -> None:
    """A warm shutdown (SIGTERM, Ctrl-C once): a running delivery ends after the message it
    is sending, so the stop leaves nothing in doubt; what is left is queued for the next
    worker."""
    delivery.deliver_stop()


@shared_task(name="notifications.deliver_due", ignore_result=True)
def deliver_due() -> int:
    """Drain due messages for a while; if some are left, the next run takes over."""
    run = delivery.deliver_due()
    if run.more_due and not deliver_due.app.conf.task_always_eager:
        deliver_due.delay()
    return run.total


@shared_task(name="notifications.sweep_leases", ignore_result=True)
def sweep_leases() -> int:
    return delivery.leases_sweep()
