"""Several workers on PostgreSQL: every message is sent exactly once, and a worker that dies
mid-send leaves its message unknown, never resent."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from parta.accounts.tests.factories import UserFactory
from parta.common.testing.concurrency import run_together
from parta.notifications import delivery
from parta.notifications.channels.base import Channel
from parta.notifications.models import Message, Status
from parta.notifications.services import notify
from parta.notifications.tests.senders import ScriptedSender

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _queue(rows: int, *, per_user: int = 10) -> None:
    """Queue ``rows`` messages (delivered at once by the eager commit hook; the tests then
    put them back in the queue, due now, as if no worker had run yet)."""
    users = [UserFactory() for _ in range(rows // per_user)]
    for user in users:
        for n in range(per_user):
            notify(user=user, kind="outbox_test", dedup_key=f"k{n}", channels=[Channel.TELEGRAM])


def _slow_send(message) -> str:
    time.sleep(0.002)  # long enough for the workers to overlap
    return f"peer-{message.pk}"


@pytest.mark.parametrize("batch", [1, 7, 20])
def test_workers_together_send_each_of_200_messages_exactly_once(settings, batch):
    settings.PARTA_NOTIFY_CLAIM_BATCH = batch
    ScriptedSender.reset(_slow_send)
    _queue(200)
    Message.objects.update(status=Status.QUEUED, attempts=0, next_attempt_at=timezone.now())
    ScriptedSender.reset(_slow_send)

    results, errors = run_together(4, lambda _i: delivery.deliver_due().total)

    assert errors == []
    assert sum(results) == 200
    # More than one worker did part of it, and none sent a message twice.
    assert sum(1 for r in results if r) >= 2, results
    assert len(ScriptedSender.sent) == 200
    assert set(ScriptedSender.sent.values()) == {1}
    assert Message.objects.filter(status=Status.SENT, attempts=1).count() == 200


def test_threaded_workers_send_each_message_once_and_count_them_all(settings):
    ScriptedSender.reset(_slow_send)
    _queue(200)
    Message.objects.update(status=Status.QUEUED, attempts=0, next_attempt_at=timezone.now())
    ScriptedSender.reset(_slow_send)

    results, errors = run_together(2, lambda _i: delivery.deliver_due(threads=3).outcomes)

    assert errors == []
    assert sum(outcome[Status.SENT] for outcome in results) == 200
    assert len(ScriptedSender.sent) == 200
    assert set(ScriptedSender.sent.values()) == {1}
    assert Message.objects.filter(status=Status.SENT, attempts=1).count() == 200


class WorkerDied(BaseException):
    """A killed worker: nothing after the send runs."""


@pytest.mark.parametrize("threads", [1, 3])
def test_a_worker_that_dies_mid_send_leaves_its_message_unknown_and_never_resent(
    settings, threads
):
    settings.PARTA_NOTIFY_THREADS = threads
    _queue(40)
    Message.objects.update(status=Status.QUEUED, attempts=0, next_attempt_at=timezone.now())
    doomed = Message.objects.order_by("pk").values_list("pk", flat=True)[17]

    def send(message):
        if message.pk == doomed:
            raise WorkerDied
        return _slow_send(message)

    ScriptedSender.reset(send)

    def work(_i):
        try:
            return delivery.deliver_due().total
        except WorkerDied:
            return "died"

    results, errors = run_together(3, work)
    assert errors == []
    assert "died" in results
    # The survivors (and a run after them) sent everything else once; the doomed row waits.
    delivery.deliver_due()
    assert Message.objects.get(pk=doomed).status == Status.SENDING
    assert Message.objects.filter(status=Status.SENT).count() == 39
    assert set(ScriptedSender.sent.values()) == {1}
    assert doomed not in ScriptedSender.sent

    later = timezone.now() + timedelta(seconds=settings.PARTA_NOTIFY_LEASE_SECONDS + 1)
    assert delivery.leases_sweep(now=later) == 1
    ScriptedSender.reset(_slow_send)
    results, errors = run_together(3, lambda _i: delivery.deliver_due().total)
    assert errors == []
    assert sum(results) == 0
    assert Message.objects.get(pk=doomed).status == Status.UNKNOWN
    assert ScriptedSender.sent == {}


def test_retries_back_off_and_end_failed_with_several_workers(settings):
    from parta.notifications.channels.base import RetryLater

    settings.PARTA_NOTIFY_MAX_ATTEMPTS = 3
    _queue(20)
    Message.objects.update(status=Status.QUEUED, attempts=0, next_attempt_at=timezone.now())

    def busy(message):
        raise RetryLater("busy")

    ScriptedSender.reset(busy)
    for _ in range(3):
        results, errors = run_together(3, lambda _i: delivery.deliver_due().total)
        assert errors == []
        assert sum(results) == 20
        Message.objects.filter(status=Status.QUEUED).update(next_attempt_at=timezone.now())
    assert Message.objects.filter(status=Status.FAILED, attempts=3).count() == 20
