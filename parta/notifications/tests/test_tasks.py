"""The outbox's Celery tasks and their beat entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app
from parta.accounts.tests.factories import UserFactory
from parta.notifications.channels.base import Channel
from parta.notifications.models import Message, Status
from parta.notifications.services import notify
from parta.notifications.tasks import deliver_due, sweep_leases


def test_the_tasks_are_registered_and_beat_runs_them():
    app.loader.import_default_modules()
    assert {"notifications.deliver_due", "notifications.sweep_leases"} <= set(app.tasks)
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"notifications.deliver_due", "notifications.sweep_leases"} <= scheduled


@pytest.mark.django_db
def test_deliver_due_and_sweep_leases_run_eagerly_and_twice_safely():
    notify(user=UserFactory(), kind="outbox_test", dedup_key="k", channels=[Channel.SITE])
    Message.objects.update(status=Status.QUEUED, next_attempt_at=timezone.now())
    assert deliver_due.delay().get() == 1
    assert deliver_due.delay().get() == 0
    Message.objects.update(
        status=Status.SENDING, lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert sweep_leases.delay().get() == 1
    assert sweep_leases.delay().get() == 0
    assert Message.objects.get().status == Status.UNKNOWN
