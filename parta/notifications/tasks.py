"""Celery tasks of the outbox (beat entries in config/settings/celery.py)."""

from __future__ import annotations

from celery import shared_task

from parta.notifications import delivery


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
