"""Celery wiring, in process: the beat schedule, task registration, and the expiry task run
eagerly (the test default). The real worker + beat + Redis run is test_celery_worker.py."""

from datetime import timedelta

import pytest
from celery.schedules import schedule as celery_schedule
from django.core import mail
from django.utils import timezone

from config.celery import app
from parta.access.models import AccessGrant
from parta.access.tests.factories import AccessGrantFactory
from parta.billing.tasks import expire_grants

EXPIRY_TASKS = {"billing.expire_grants", "billing.expire_checkouts"}


def _interval_seconds(every: float | timedelta | celery_schedule) -> float:
    if isinstance(every, celery_schedule):
        return every.run_every.total_seconds()
    if isinstance(every, timedelta):
        return every.total_seconds()
    return float(every)


def test_beat_schedule_runs_both_expiry_tasks_at_positive_intervals():
    entries = app.conf.beat_schedule
    assert {entry["task"] for entry in entries.values()} >= EXPIRY_TASKS
    for entry in entries.values():
        if entry["task"] in EXPIRY_TASKS:
            assert _interval_seconds(entry["schedule"]) > 0, entry


def test_expiry_tasks_are_registered_on_the_app():
    # What the worker does at start-up: import every installed app's tasks module.
    app.loader.import_default_modules()
    assert set(app.tasks) >= EXPIRY_TASKS


@pytest.mark.django_db
def test_expire_grants_runs_eagerly_and_tells_the_student_once(
    django_capture_on_commit_callbacks,
):
    assert app.conf.task_always_eager
    grant = AccessGrantFactory(
        starts_at=timezone.now() - timedelta(days=30),
        available_until=timezone.now() - timedelta(minutes=1),
        is_active=True,
    )
    still_open = AccessGrantFactory(available_until=timezone.now() + timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert expire_grants.delay().get() == 1

    grant.refresh_from_db()
    still_open.refresh_from_db()
    assert not grant.is_active
    assert still_open.is_active
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [grant.user.email]
    assert grant.course.title in mail.outbox[0].subject

    # Safe to run twice: nothing left to switch off, nobody emailed again.
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_grants.delay().get() == 0
    assert len(mail.outbox) == 1
    assert AccessGrant.objects.filter(pk=grant.pk, is_active=False).exists()
