"""The outbox's worker: outcomes, retries, preferences, fallbacks, dead workers (SQLite)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from parta.accounts.tests.factories import UserFactory
from parta.notifications import delivery
from parta.notifications.channels.base import (
    Channel,
    DeliveryFailed,
    RetryLater,
    SkipDelivery,
)
from parta.notifications.models import Message, Preference, Status
from parta.notifications.services import messages_resend, notify
from parta.notifications.tests.senders import ScriptedSender

pytestmark = pytest.mark.django_db


def _notify(user, kind="outbox_test", key="lesson:1", **kwargs):
    notify(user=user, kind=kind, context={"number": 7}, dedup_key=key, **kwargs)


def _row(channel) -> Message:
    return Message.objects.get(channel=channel)


def _due_now() -> None:
    Message.objects.filter(status=Status.QUEUED).update(next_attempt_at=timezone.now())


def test_every_channel_is_delivered_once_on_commit(django_capture_on_commit_callbacks):
    user = UserFactory(full_name="Ivan Petrov")
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user)
    statuses = dict(Message.objects.values_list("channel", "status"))
    assert statuses == {
        Channel.EMAIL: Status.SENT,
        Channel.TELEGRAM: Status.SENT,
        Channel.SITE: Status.SENT,
    }
    [email] = mail.outbox
    assert email.to == [user.email]
    assert email.subject == "Lesson 7 is ready"
    assert "Hello, Ivan Petrov!" in email.body
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert "<b>Ivan Petrov</b>" in html
    row = _row(Channel.EMAIL)
    assert row.peer_id == email.extra_headers["Message-ID"] == f"<notification-{row.pk}@127.0.0.1>"
    assert row.sent_at is not None
    assert row.attempts == 1
    assert row.lease_until is None
    assert ScriptedSender.sent == {_row(Channel.TELEGRAM).pk: 1}

    # Told again, run again: nothing new is stored or sent.
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user)
    assert delivery.deliver_due().total == 0
    assert Message.objects.count() == 3
    assert len(mail.outbox) == 1


def test_retry_later_backs_off_with_jitter_then_fails(settings):
    settings.PARTA_NOTIFY_MAX_ATTEMPTS = 3
    settings.PARTA_NOTIFY_BACKOFF_SECONDS = 100
    ScriptedSender.reset(lambda m: (_ for _ in ()).throw(RetryLater("peer busy")))
    _notify(UserFactory(), channels=[Channel.TELEGRAM])
    for attempt, step in ((1, 100), (2, 200)):
        before = timezone.now()
        assert delivery.deliver_due().outcomes == {Status.QUEUED: 1}
        row = _row(Channel.TELEGRAM)
        assert (row.status, row.attempts, row.last_error) == (Status.QUEUED, attempt, "peer busy")
        wait = (row.next_attempt_at - before).total_seconds()
        assert step / 2 - 1 <= wait <= step + 1, wait
        # Not due yet: a run now leaves it alone.
        assert delivery.deliver_due().total == 0
        _due_now()
    assert delivery.deliver_due().outcomes == {Status.FAILED: 1}
    row = _row(Channel.TELEGRAM)
    assert row.status == Status.FAILED
    assert row.attempts == 3
    assert row.last_error == "peer busy (gave up after 3 tries)"
    assert ScriptedSender.sent == {}


def test_retry_after_from_the_peer_is_kept():
    ScriptedSender.reset(lambda m: (_ for _ in ()).throw(RetryLater("429", retry_after=42)))
    _notify(UserFactory(), channels=[Channel.TELEGRAM])
    before = timezone.now()
    delivery.deliver_due()
    wait = (_row(Channel.TELEGRAM).next_attempt_at - before).total_seconds()
    assert 41 <= wait <= 43


def test_a_short_retry_after_is_waited_out_in_the_same_claim(settings):
    settings.PARTA_NOTIFY_INLINE_RETRY_SECONDS = 1
    answers = iter([RetryLater("429", retry_after=0.05), RetryLater("429", retry_after=0.05)])

    def send(message):
        answer = next(answers, None)
        if answer is not None:
            raise answer
        return "peer-1"

    ScriptedSender.reset(send)
    _notify(UserFactory(), channels=[Channel.TELEGRAM])
    assert delivery.deliver_due().outcomes == {Status.SENT: 1}
    row = _row(Channel.TELEGRAM)
    # Once, in its first claim, after two short waits.
    assert (row.status, row.attempts, row.peer_id) == (Status.SENT, 1, "peer-1")
    assert ScriptedSender.sent == {row.pk: 1}


def test_a_peer_that_keeps_saying_wait_goes_back_to_the_queue(settings):
    settings.PARTA_NOTIFY_INLINE_RETRY_SECONDS = 1
    calls = []

    def send(message):
        calls.append(message.pk)
        raise RetryLater("429", retry_after=0.01)

    ScriptedSender.reset(send)
    _notify(UserFactory(), channels=[Channel.TELEGRAM])
    assert delivery.deliver_due().outcomes == {Status.QUEUED: 1}
    row = _row(Channel.TELEGRAM)
    assert len(calls) == 4  # the send and three short waits, then the queue
    assert (row.status, row.attempts) == (Status.QUEUED, 1)


def test_backoff_grows_and_is_capped(settings):
    settings.PARTA_NOTIFY_BACKOFF_SECONDS = 60
    settings.PARTA_NOTIFY_BACKOFF_MAX_SECONDS = 600
    assert 30 <= delivery.backoff_seconds(1) <= 60
    assert 120 <= delivery.backoff_seconds(3) <= 240
    assert 300 <= delivery.backoff_seconds(20) <= 600


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (SkipDelivery("no chat here"), Status.SKIPPED, "no chat here"),
        (DeliveryFailed("400: bad request"), Status.FAILED, "400: bad request"),
        (ZeroDivisionError("a bug"), Status.QUEUED, "ZeroDivisionError: a bug"),
    ],
)
def test_each_error_of_a_sender_has_its_outcome(error, status, reason):
    def fail(message):
        raise error

    ScriptedSender.reset(fail)
    _notify(UserFactory(), channels=[Channel.TELEGRAM])
    delivery.deliver_due()
    row = _row(Channel.TELEGRAM)
    assert (row.status, row.last_error) == (status, reason)


def test_opted_out_is_skipped_and_mandatory_kinds_ignore_preferences(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()
    Preference.objects.create(user=user, kind="outbox_test", channel=Channel.EMAIL, enabled=False)
    Preference.objects.create(user=user, kind="outbox_code", channel=Channel.EMAIL, enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user, channels=[Channel.EMAIL])
        _notify(user, kind="outbox_code", key="receipt:1")
    rows = dict(Message.objects.values_list("kind", "status"))
    assert rows == {"outbox_test": Status.SKIPPED, "outbox_code": Status.SENT}
    assert Message.objects.get(kind="outbox_test").last_error == "opted out"
    assert [m.subject for m in mail.outbox] == ["Receipt 7"]


def test_a_batch_reads_the_choices_once_and_agrees_with_one_by_one(
    django_assert_num_queries,
):
    from parta.notifications.preferences import preference_get, preferences_allowed

    users = [UserFactory() for _ in range(4)]
    Preference.objects.create(user=users[0], kind="outbox_test", channel="email", enabled=False)
    Preference.objects.create(user=users[1], kind="outbox_test", channel="site", enabled=False)
    Preference.objects.create(user=users[2], kind="outbox_code", channel="email", enabled=False)
    for number, user in enumerate(users):
        _notify(user, key=f"batch:{number}")
        _notify(user, kind="outbox_code", key=f"code:{number}")
    rows = list(Message.objects.all())
    with django_assert_num_queries(1):
        allowed = preferences_allowed(messages=rows)
    expected = {
        row.pk: preference_get(user=row.user, kind=row.kind, channel=row.channel) for row in rows
    }
    assert allowed == expected
    assert list(allowed.values()).count(False) == 2


@pytest.mark.parametrize("count", [3, 9])
def test_the_worker_spends_one_commit_a_message(count):
    """Reserve (a select and an update), the choices (one select), then per message its
    claim together with the previous message's outcome, whatever the batch's size: on
    PostgreSQL both in one statement, elsewhere two in one transaction. (In the test's
    transaction each of the worker's transactions is a savepoint.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for number in range(count):
        _notify(UserFactory(), key=f"count:{number}", channels=[Channel.SITE])
    with CaptureQueriesContext(connection) as queries:
        run = delivery.deliver_due()
    assert run.outcomes == {Status.SENT: count}
    assert set(Message.objects.values_list("status", flat=True)) == {Status.SENT}
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    transactions = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    if connection.vendor == "postgresql":
        # The first claim, then each claim merged with the previous outcome (a WITH of two
        # UPDATEs), the last outcome alone, the empty reserve that ends the run.
        assert len(statements) == 3 + 1 + (count - 1) + 1 + 1
        merged = [sql for sql in statements if sql.startswith("WITH done AS (UPDATE")]
        assert len(merged) == count - 1
        assert len(transactions) == 1 + 1 + 1
    else:
        assert len(statements) == 3 + 2 * count + 1  # + the empty reserve that ends the run
        # The reserve, one per claim (with the previous outcome), the empty reserve; the
        # last outcome is one statement on its own.
        assert len(transactions) == 1 + count + 1


def test_a_warm_stop_ends_the_run_after_the_message_being_sent_and_leaves_none_in_doubt():
    sent = []

    def send(message):
        sent.append(message.pk)
        if len(sent) == 3:
            delivery.deliver_stop()  # what Celery's warm shutdown signal calls
        return f"peer-{message.pk}"

    ScriptedSender.reset(send)
    for number in range(8):
        _notify(UserFactory(), key=f"stop:{number}", channels=[Channel.TELEGRAM])
    Message.objects.update(status=Status.QUEUED, attempts=0, next_attempt_at=timezone.now())
    ScriptedSender.reset(send)
    sent.clear()
    try:
        run = delivery.deliver_due()
        assert run.outcomes == {Status.SENT: 3}
        statuses = sorted(Message.objects.values_list("status", flat=True))
        assert statuses == [Status.QUEUED] * 5 + [Status.SENT] * 3
        # The rest of the batch is given back, due now: nothing waits for a hold to end.
        assert not Message.objects.filter(
            status=Status.QUEUED, next_attempt_at__gt=timezone.now()
        ).exists()
    finally:
        delivery.deliver_resume()
    assert delivery.deliver_due().outcomes == {Status.SENT: 5}
    assert len(set(sent)) == len(sent) == 8


def test_celery_warm_shutdown_asks_delivery_to_stop():
    from celery.signals import worker_shutting_down

    try:
        worker_shutting_down.send(sender="worker@test", sig="SIGTERM", how="Warm", exitcode=0)
        assert delivery._stopping.is_set()
    finally:
        delivery.deliver_resume()


def test_a_user_without_an_email_address_is_skipped():
    _notify(UserFactory(email=""), channels=[Channel.EMAIL])
    delivery.deliver_due()
    row = _row(Channel.EMAIL)
    assert (row.status, row.last_error) == (Status.SKIPPED, "no email address")


@pytest.mark.parametrize("reason", ["bot was blocked by the user", "telegram not linked"])
def test_blocked_or_unlinked_telegram_falls_back_to_email(reason):
    ScriptedSender.reset(lambda m: (_ for _ in ()).throw(SkipDelivery(reason)))
    user = UserFactory()
    _notify(user, channels=[Channel.TELEGRAM])
    delivery.deliver_due()
    telegram, email = _row(Channel.TELEGRAM), _row(Channel.EMAIL)
    assert telegram.status == Status.SKIPPED
    assert reason in telegram.last_error
    assert (email.status, email.dedup_key, email.context) == (
        Status.SENT,
        "lesson:1",
        {"number": 7},
    )
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_no_email_fallback_for_a_kind_without_email_or_for_other_skips():
    ScriptedSender.reset(lambda m: (_ for _ in ()).throw(SkipDelivery("bot was blocked")))
    _notify(UserFactory(), kind="outbox_test_tg")
    delivery.deliver_due()
    ScriptedSender.reset(lambda m: (_ for _ in ()).throw(SkipDelivery("bot not configured")))
    _notify(UserFactory(), key="lesson:2", channels=[Channel.TELEGRAM])
    delivery.deliver_due()
    assert not Message.objects.filter(channel=Channel.EMAIL).exists()
    assert mail.outbox == []


def test_an_email_row_already_there_is_not_doubled_by_the_fallback(
    django_capture_on_commit_callbacks,
):
    ScriptedSender.reset(lambda m: (_ for _ in ()).throw(SkipDelivery("bot was blocked")))
    with django_capture_on_commit_callbacks(execute=True):
        _notify(UserFactory(), channels=[Channel.EMAIL, Channel.TELEGRAM])
    assert Message.objects.filter(channel=Channel.EMAIL).count() == 1
    assert len(mail.outbox) == 1


class WorkerDied(BaseException):
    """What a killed worker looks like from inside: nothing after the send runs."""


def test_a_worker_that_dies_mid_send_leaves_the_row_unknown_never_resent(settings):
    def die(message):
        raise WorkerDied

    ScriptedSender.reset(die)
    _notify(UserFactory(), channels=[Channel.TELEGRAM])
    with pytest.raises(WorkerDied):
        delivery.deliver_due()
    row = _row(Channel.TELEGRAM)
    assert row.status == Status.SENDING
    assert row.attempts == 1
    # Within the lease the sweep leaves it; nobody claims it either.
    assert delivery.leases_sweep() == 0
    ScriptedSender.reset()
    assert delivery.deliver_due().total == 0
    later = timezone.now() + timedelta(seconds=settings.PARTA_NOTIFY_LEASE_SECONDS + 1)
    assert delivery.leases_sweep(now=later) == 1
    row.refresh_from_db()
    assert row.status == Status.UNKNOWN
    assert "lease ended" in row.last_error
    assert delivery.deliver_due().total == 0
    assert delivery.leases_sweep(now=later) == 0
    assert ScriptedSender.sent == {}


def test_a_late_worker_never_overwrites_a_row_that_is_no_longer_its_own(settings):
    _notify(UserFactory(), channels=[Channel.TELEGRAM])
    [late] = delivery.messages_claim(limit=10)
    later = timezone.now() + timedelta(seconds=settings.PARTA_NOTIFY_LEASE_SECONDS + 1)
    delivery.leases_sweep(now=later)
    assert messages_resend(ids=[late.pk]) == 1
    [fresh] = delivery.messages_claim(limit=10)
    assert delivery.message_deliver(fresh) == Status.SENT
    # The first worker wakes up and says it failed: the row stays sent.
    ScriptedSender.reset(lambda m: (_ for _ in ()).throw(DeliveryFailed("late")))
    delivery.message_deliver(late)
    row = _row(Channel.TELEGRAM)
    assert (row.status, row.peer_id) == (Status.SENT, f"peer-{row.pk}")


def test_a_late_worker_that_did_send_turns_its_unknown_row_sent(settings):
    _notify(UserFactory(), channels=[Channel.TELEGRAM])
    [late] = delivery.messages_claim(limit=10)
    later = timezone.now() + timedelta(seconds=settings.PARTA_NOTIFY_LEASE_SECONDS + 1)
    delivery.leases_sweep(now=later)
    assert delivery.message_deliver(late) == Status.SENT
    assert _row(Channel.TELEGRAM).status == Status.SENT


def test_resend_requeues_only_failed_and_unknown_rows(django_capture_on_commit_callbacks):
    user = UserFactory()
    _notify(user)
    Message.objects.filter(channel=Channel.EMAIL).update(status=Status.FAILED, attempts=8)
    Message.objects.filter(channel=Channel.TELEGRAM).update(status=Status.UNKNOWN, attempts=1)
    Message.objects.filter(channel=Channel.SITE).update(status=Status.SENDING)
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_resend(ids=Message.objects.values_list("pk", flat=True)) == 2
        # Twice in a row (a double click) queues nothing more.
        assert messages_resend(ids=Message.objects.values_list("pk", flat=True)) == 0
    statuses = dict(Message.objects.values_list("channel", "status"))
    assert statuses == {
        Channel.EMAIL: Status.SENT,
        Channel.TELEGRAM: Status.SENT,
        Channel.SITE: Status.SENDING,
    }
    assert len(mail.outbox) == 1
    assert sum(ScriptedSender.sent.values()) == 1


def test_an_unregistered_kind_fails_visibly():
    user = UserFactory()
    Message.objects.create(user=user, kind="gone", channel=Channel.EMAIL, dedup_key="x")
    delivery.deliver_due()
    row = Message.objects.get()
    assert row.status == Status.FAILED
    assert "unknown notification kind" in row.last_error


def test_a_run_stops_at_its_time_budget_and_says_more_is_due(settings):
    settings.PARTA_NOTIFY_CLAIM_BATCH = 1
    for number in range(3):
        _notify(UserFactory(), key=f"lesson:{number}", channels=[Channel.SITE])
    run = delivery.deliver_due(budget_seconds=0)
    assert run.total == 0
    assert run.more_due
    run = delivery.deliver_due()
    assert run.outcomes == {Status.SENT: 3}
    assert not run.more_due


def test_a_killed_worker_leaves_only_the_message_it_was_sending_in_doubt(settings):
    for number in range(5):
        _notify(UserFactory(), key=f"lesson:{number}", channels=[Channel.TELEGRAM])
    # A worker reserves five, starts sending the first, and is killed (nothing more runs).
    reserved = delivery.messages_reserve(limit=5)
    assert len(reserved) == 5
    assert delivery.message_start(reserved[0])
    # While its reservation holds, nobody else takes the other four.
    assert delivery.deliver_due().total == 0

    after_lease = timezone.now() + timedelta(seconds=settings.PARTA_NOTIFY_LEASE_SECONDS + 1)
    assert delivery.leases_sweep(now=after_lease) == 1
    assert Message.objects.get(pk=reserved[0].pk).status == Status.UNKNOWN
    # The four it had only reserved are queued, due when the hold ends, and go out once.
    assert Message.objects.filter(status=Status.QUEUED).count() == 4
    Message.objects.filter(status=Status.QUEUED).update(next_attempt_at=timezone.now())
    assert delivery.deliver_due().outcomes == {Status.SENT: 4}
    assert reserved[0].pk not in ScriptedSender.sent
    assert set(ScriptedSender.sent.values()) == {1}


def test_reserved_rows_come_back_after_the_hold_and_go_out_once(settings):
    for number in range(4):
        _notify(UserFactory(), key=f"lesson:{number}", channels=[Channel.TELEGRAM])
    reserved = delivery.messages_reserve(limit=4)  # and the worker is killed
    assert delivery.deliver_due().total == 0
    Message.objects.update(next_attempt_at=timezone.now())  # the hold has ended
    assert delivery.deliver_due().outcomes == {Status.SENT: 4}
    assert not Message.objects.exclude(status=Status.SENT).exists()
    assert set(ScriptedSender.sent.values()) == {1}
    # The dead worker's reservation is stale: it can start nothing.
    assert not any(delivery.message_start(message) for message in reserved)


def test_a_run_out_of_time_gives_its_reserved_rows_back(settings):
    for number in range(3):
        _notify(UserFactory(), key=f"lesson:{number}", channels=[Channel.SITE])
    ticks = iter([0.0, 0.0, 0.0, 100.0, 100.0, 100.0])

    def clock():
        return next(ticks, 100.0)

    original = delivery.time.monotonic
    delivery.time.monotonic = clock
    try:
        run = delivery.deliver_due(budget_seconds=10)
    finally:
        delivery.time.monotonic = original
    assert run.more_due
    assert run.outcomes == {Status.SENT: 1}
    # The two not reached are due now, not at the end of the hold.
    assert (
        Message.objects.filter(status=Status.QUEUED, next_attempt_at__lte=timezone.now()).count()
        == 2
    )


@pytest.mark.postgres
def test_a_merged_outcome_no_longer_ours_is_dropped_and_the_next_claim_still_made():
    """The one-statement outcome + claim keeps both conditions: an outcome for a row staff
    re-queued meanwhile changes nothing, while the next row is claimed; a next row another
    worker took is not claimed, while the outcome is stored."""
    for number in range(4):
        _notify(UserFactory(), key=f"merge:{number}", channels=[Channel.SITE])
    first, second, third, fourth = delivery.messages_reserve(limit=4)
    assert delivery.message_start(first)
    # Staff re-queue the first row while it is being sent (a new lease, attempts kept).
    Message.objects.filter(pk=first.pk).update(status=Status.QUEUED, lease_until=None)
    outcome = delivery.message_send(first).outcome
    assert outcome is not None
    assert delivery._record_and_start(outcome, second) is True
    first.refresh_from_db()
    assert first.status == Status.QUEUED  # the stale outcome was dropped
    assert Message.objects.get(pk=second.pk).status == Status.SENDING

    # The third row was taken by another worker (its hold changed): the outcome of the
    # second is stored, the third is not claimed.
    Message.objects.filter(pk=third.pk).update(next_attempt_at=timezone.now())
    outcome = delivery.message_send(second).outcome
    assert delivery._record_and_start(outcome, third) is False
    assert Message.objects.get(pk=second.pk).status == Status.SENT
    assert Message.objects.get(pk=third.pk).status == Status.QUEUED
    assert Message.objects.get(pk=fourth.pk).status == Status.QUEUED
