"""Delivering the outbox: claim, send outside any transaction, record what happened.

A worker claims due rows (``queued`` and ``next_attempt_at`` reached) with
``SELECT ... FOR UPDATE SKIP LOCKED`` in a short transaction; each becomes ``sending`` with a
lease and its attempt counted; the worker commits before sending, so no lock is held while a peer
answers, and two workers never hold the same row. After the send it records the outcome only
if the row is still the one it claimed (same lease and attempt): a worker that comes back after
its lease ended, or after staff re-queued the row, changes nothing.

No message is sent twice: a row whose worker died mid-send stays ``sending`` until its lease
ends, then ``leases_sweep`` marks it ``unknown``, and nothing claims ``unknown`` rows; staff see
them in the admin and may resend them (``parta.notifications.services.messages_resend``).

A worker first reserves a batch of due rows (``PARTA_NOTIFY_CLAIM_BATCH``) in that short
transaction, moving their next attempt to a hold time of its own; it then claims each row with
one conditional UPDATE just before sending it. A row is in doubt only while it is being sent, so
a killed worker leaves at most one ``unknown`` row per sending thread
(``PARTA_NOTIFY_THREADS``); the rest of its batch is due
again when the hold ends, and a run that stops early gives it back at once.

On PostgreSQL the outcome of the message just sent and the claim of the next one are one
statement (both conditional UPDATEs in a ``WITH``): one round trip and one commit a message.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, QuerySet
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from parta.notifications.channels.base import (
    Channel,
    DeliveryFailed,
    RetryLater,
    Sender,
    SkipDelivery,
)
from parta.notifications.channels.registry import ChannelUnavailable, sender_for
from parta.notifications.kinds import get_kind
from parta.notifications.models import Message, Status
from parta.notifications.preferences import preference_get, preferences_allowed

logger = logging.getLogger("parta.notifications")

OPTED_OUT = "opted out"
MIN_RETRY_SECONDS = 1.0
LEASE_ENDED = "the worker stopped while sending (lease ended): it may or may not have arrived"
# Telegram skips after which the person is told by email instead.
EMAIL_FALLBACK_REASONS = ("blocked", "not linked")

_running = threading.local()
# Set when the worker is asked to stop (a warm shutdown): runs finish the message being sent,
# record it, give back the rest of their batch, and end; nothing is left in doubt.
_stopping = threading.Event()


def deliver_stop() -> None:
    """Ask every run in this process to end after the message each thread is sending."""
    _stopping.set()


def deliver_resume() -> None:
    """Let runs claim again (after ``deliver_stop``; tests)."""
    _stopping.clear()


@dataclass
class DeliveryRun:
    """What one run did: outcomes by status, and whether due rows were left for the next."""

    outcomes: Counter = field(default_factory=Counter)
    more_due: bool = False

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: between half and all of BASE * 2^(attempt - 1),
    capped at ``PARTA_NOTIFY_BACKOFF_MAX_SECONDS``."""
    step = min(
        settings.PARTA_NOTIFY_BACKOFF_MAX_SECONDS,
        settings.PARTA_NOTIFY_BACKOFF_SECONDS * 2 ** max(0, attempt - 1),
    )
    return step / 2 + random.uniform(0, step / 2)


def messages_reserve(*, limit: int, now=None) -> list[Message]:
    """Reserve up to ``limit`` due rows for this worker, in one short transaction: their next
    attempt moves to a hold time that only this worker knows, so no other worker takes them
    until it ends. A reserved row is not in doubt: if the worker dies, it is due again when
    the hold ends (``PARTA_NOTIFY_HOLD_SECONDS``)."""
    now = now or timezone.now()
    hold = now + timedelta(seconds=settings.PARTA_NOTIFY_HOLD_SECONDS)
    with transaction.atomic(durable=True):
        rows = list(
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(status=Status.QUEUED, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")[:limit]
        )
        if rows:
            Message.objects.filter(pk__in=[row.pk for row in rows]).update(next_attempt_at=hold)
    for row in rows:
        row.next_attempt_at = hold
    return rows


def _start_query(message: Message, *, now=None) -> tuple[QuerySet, dict]:
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=settings.PARTA_NOTIFY_LEASE_SECONDS)
    rows = Message.objects.filter(
        pk=message.pk, status=Status.QUEUED, next_attempt_at=message.next_attempt_at
    )
    return rows, {
        "status": Status.SENDING,
        "lease_until": lease_until,
        "attempts": F("attempts") + 1,
    }


def _started(message: Message, values: dict, started: int) -> bool:
    if started:
        message.status = Status.SENDING
        message.lease_until = values["lease_until"]
        message.attempts += 1
    return bool(started)


def message_start(message: Message, *, now=None) -> bool:
    """Claim one reserved row just before sending it: ``sending``, leased, attempt counted.
    False if it is no longer this worker's (its hold ended and another worker took it)."""
    rows, values = _start_query(message, now=now)
    return _started(message, values, rows.update(**values))


def messages_release(messages: list[Message]) -> None:
    """Give back reserved rows this worker will not send (its run is stopping)."""
    for hold in {message.next_attempt_at for message in messages}:
        Message.objects.filter(
            pk__in=[m.pk for m in messages if m.next_attempt_at == hold],
            status=Status.QUEUED,
            next_attempt_at=hold,
        ).update(next_attempt_at=timezone.now())


def messages_claim(*, limit: int, now=None) -> list[Message]:
    """Reserve and claim up to ``limit`` due rows at once (all ``sending``)."""
    return [row for row in messages_reserve(limit=limit, now=now) if message_start(row, now=now)]


@dataclass
class _Outcome:
    """An outcome to record: the conditional UPDATE that stores it if the row is still
    this worker's (same lease and attempt)."""

    message: Message
    status: Status
    rows: QuerySet
    values: dict

    def apply(self) -> bool:
        return self.applied(self.rows.update(**self.values))

    def applied(self, updated: int) -> bool:
        if updated:
            self.message.status = self.status
        else:
            logger.warning(
                "notification %s: outcome %s dropped, the row is no longer this worker's",
                self.message.pk,
                self.status,
            )
        return bool(updated)


def _outcome(
    message: Message, *, status: Status, also_unknown: bool = False, **fields
) -> _Outcome:
    statuses = [Status.SENDING, Status.UNKNOWN] if also_unknown else [Status.SENDING]
    rows = Message.objects.filter(
        pk=message.pk,
        status__in=statuses,
        lease_until=message.lease_until,
        attempts=message.attempts,
    )
    return _Outcome(message, status, rows, {"status": status, "lease_until": None, **fields})


def _finish(message: Message, *, status: Status, also_unknown: bool = False, **fields) -> bool:
    """Record an outcome if the row is still ours; return whether it was."""
    return _outcome(message, status=status, also_unknown=also_unknown, **fields).apply()


def _update_sql(rows: QuerySet, values: dict) -> tuple[str, tuple]:
    """The SQL of ``rows.update(**values)``, to be run inside a larger statement."""
    query = rows.query.chain(UpdateQuery)
    query.add_update_values(values)
    query.annotations = {}
    compiler = query.get_compiler(rows.db)
    compiler.pre_sql_setup()
    text, params = compiler.as_sql()
    return text, tuple(params)


def _record_and_start(outcome: _Outcome, message: Message) -> bool:
    """Store the outcome of the message just sent and claim the next one in ONE statement
    (PostgreSQL: two UPDATEs in a WITH, atomic as any statement, one round trip and one
    commit). Returns whether the next one was claimed."""
    done_sql, done_params = _update_sql(outcome.rows, outcome.values)
    start_rows, start_values = _start_query(message)
    start_sql, start_params = _update_sql(start_rows, start_values)
    with connections[outcome.rows.db].cursor() as cursor:
        cursor.execute(
            f"WITH done AS ({done_sql} RETURNING 1), started AS ({start_sql} RETURNING 1) "
            "SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM started)",
            done_params + start_params,
        )
        done, started = cursor.fetchone()
    outcome.applied(done)
    return _started(message, start_values, started)


def _sent(message: Message, peer_id: str) -> _Outcome:
    # Also from ``unknown``: a worker that outlived its lease did send it, and saying so
    # keeps staff from resending it (a re-queued row has another lease and is left alone).
    return _outcome(
        message,
        status=Status.SENT,
        also_unknown=True,
        peer_id=(peer_id or "")[:200],
        sent_at=timezone.now(),
    )


def _retry(message: Message, reason: str, retry_after: float | None) -> _Outcome:
    limit = settings.PARTA_NOTIFY_MAX_ATTEMPTS
    if message.attempts >= limit:
        return _outcome(
            message, status=Status.FAILED, last_error=f"{reason} (gave up after {limit} tries)"
        )
    delay = retry_after if retry_after is not None else backoff_seconds(message.attempts)
    return _outcome(
        message,
        status=Status.QUEUED,
        last_error=reason,
        # At least a second: a run never spins on one row.
        next_attempt_at=timezone.now() + timedelta(seconds=max(MIN_RETRY_SECONDS, delay)),
    )


def _skip(message: Message, reason: str) -> _Outcome | Callable[[], bool]:
    """Skipped; a Telegram row that cannot reach the person (blocked, not linked) is told
    by email instead, in the same transaction as the skip (so not a plain outcome)."""
    wants_email = (
        message.channel == Channel.TELEGRAM
        and any(word in reason.lower() for word in EMAIL_FALLBACK_REASONS)
        and Channel.EMAIL in get_kind(message.kind).channels
    )
    if not wants_email:
        return _outcome(message, status=Status.SKIPPED, last_error=reason)

    def skip_and_email() -> bool:
        from parta.notifications.services import notify

        with transaction.atomic():
            recorded = _finish(
                message, status=Status.SKIPPED, last_error=f"{reason}; told by email instead"
            )
            if recorded:
                # The same event's key: if the email row exists already, nothing is added.
                notify(
                    user=message.user,
                    kind=message.kind,
                    context=message.context,
                    dedup_key=message.dedup_key,
                    channels=[Channel.EMAIL],
                )
        return recorded

    return skip_and_email


class Recorded:
    """What ``message_send`` returns: calling it records the outcome and returns the status.
    ``outcome`` is the outcome's plain UPDATE when it is one, which the worker stores in one
    statement with the next row's claim."""

    def __init__(self, message: Message, outcome: _Outcome | Callable[[], bool]) -> None:
        self.message = message
        self.outcome = outcome if isinstance(outcome, _Outcome) else None
        self._record = outcome

    def __call__(self) -> Status:
        if self.outcome is not None:
            self.outcome.apply()
        else:
            self._record()
        return self.message.status


def message_deliver(
    message: Message, *, senders: dict[str, Sender] | None = None, allowed: bool | None = None
) -> Status:
    """Send one claimed message and record the outcome; return the status it ended in."""
    return message_send(message, senders=senders, allowed=allowed)()


def _send_waiting_briefly(sender: Sender, message: Message) -> str:
    """``sender.send``, again after a short ``retry_after`` (Telegram's 429 when the limit
    was met): the row stays this thread's, leased, and goes out in its turn instead of
    waiting for the next reserve. A long wait is given back to the queue."""
    limit = settings.PARTA_NOTIFY_INLINE_RETRY_SECONDS
    for _round in range(3):
        try:
            return sender.send(message)
        except RetryLater as exc:
            if exc.retry_after is None or exc.retry_after > limit or _stopping.is_set():
                raise
            time.sleep(exc.retry_after)
    return sender.send(message)


def message_send(
    message: Message, *, senders: dict[str, Sender] | None = None, allowed: bool | None = None
) -> Recorded:
    """Send one claimed message; what is returned records the outcome when called (the
    worker stores it together with the next row's claim: one commit per message).
    ``allowed``: the person's choice if the caller has read it (``preferences_allowed``)."""
    senders = {} if senders is None else senders
    try:
        kind = get_kind(message.kind)
    except LookupError as exc:
        return Recorded(message, _outcome(message, status=Status.FAILED, last_error=str(exc)))
    try:
        if allowed is None and not kind.mandatory:
            allowed = preference_get(user=message.user, kind=message.kind, channel=message.channel)
        if not kind.mandatory and not allowed:
            return Recorded(
                message, _outcome(message, status=Status.SKIPPED, last_error=OPTED_OUT)
            )
        sender = senders.get(message.channel)
        if sender is None:
            sender = senders[message.channel] = sender_for(message.channel)
    except ChannelUnavailable as exc:
        reason = f"channel not available: {exc}"
        return Recorded(message, _outcome(message, status=Status.SKIPPED, last_error=reason))
    except Exception as exc:
        logger.exception("notification %s: could not prepare the send", message.pk)
        return Recorded(message, _retry(message, f"{exc.__class__.__name__}: {exc}", None))

    try:
        peer_id = _send_waiting_briefly(sender, message)
    except RetryLater as exc:
        return Recorded(message, _retry(message, exc.reason, exc.retry_after))
    except SkipDelivery as exc:
        return Recorded(message, _skip(message, exc.reason))
    except DeliveryFailed as exc:
        return Recorded(message, _outcome(message, status=Status.FAILED, last_error=exc.reason))
    except Exception as exc:
        # A bug must not lose mail: tried again with backoff, the error kept for staff.
        logger.exception("notification %s: the %s sender failed", message.pk, message.channel)
        return Recorded(message, _retry(message, f"{exc.__class__.__name__}: {exc}", None))
    return Recorded(message, _sent(message, peer_id))


def deliver_due(
    *, budget_seconds: float | None = None, batch: int | None = None, threads: int | None = None
) -> DeliveryRun:
    """Send due messages until none is left or the time budget is spent, with ``threads``
    threads (``PARTA_NOTIFY_THREADS``). Safe to run in many workers at once and any number
    of times."""
    if getattr(_running, "active", False):
        # Called again from inside a run (eager Celery, on the commit of an email fallback):
        # the run in progress picks the new rows up.
        return DeliveryRun()
    budget = settings.PARTA_NOTIFY_TASK_SECONDS if budget_seconds is None else budget_seconds
    batch = batch or settings.PARTA_NOTIFY_CLAIM_BATCH
    threads = threads or settings.PARTA_NOTIFY_THREADS
    deadline = time.monotonic() + budget
    if threads <= 1:
        return _deliver_loop(deadline=deadline, batch=batch)

    runs: list[DeliveryRun] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            runs.append(_deliver_loop(deadline=deadline, batch=batch))
        except BaseException as exc:  # re-raised in the caller's thread below
            failures.append(exc)
        finally:
            connections.close_all()  # this thread's connection ends with it

    workers = [threading.Thread(target=work, name=f"outbox-{number}") for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]
    total = DeliveryRun()
    for run in runs:
        total.outcomes.update(run.outcomes)
        total.more_due = total.more_due or run.more_due
    return total


def _deliver_loop(*, deadline: float, batch: int) -> DeliveryRun:
    """One thread's part of a run: reserve a batch, claim and send its rows one by one."""
    run = DeliveryRun()
    senders: dict[str, Sender] = {}
    # On PostgreSQL an outcome and the next claim are one statement (one round trip).
    merged = connections[Message.objects.db].vendor == "postgresql"
    _running.active = True
    try:
        while not _stopping.is_set():
            if time.monotonic() >= deadline:
                run.more_due = Message.objects.filter(
                    status=Status.QUEUED, next_attempt_at__lte=timezone.now()
                ).exists()
                break
            pending = messages_reserve(limit=batch)
            if not pending:
                break
            allowed = preferences_allowed(messages=pending)
            # The outcome of the message just sent, stored in one transaction with the next
            # row's claim: one commit per message, and still only the row being sent is in
            # doubt if the worker dies.
            record: Recorded | None = None
            try:
                while pending and time.monotonic() < deadline and not _stopping.is_set():
                    message = pending.pop(0)
                    if record is not None and record.outcome is not None and merged:
                        done, record = record, None
                        started = _record_and_start(done.outcome, message)
                        run.outcomes[done.message.status] += 1
                    else:
                        with transaction.atomic():
                            if record is not None:
                                done, record = record, None
                                run.outcomes[done()] += 1
                            started = message_start(message)
                    if started:
                        record = message_send(
                            message, senders=senders, allowed=allowed.get(message.pk)
                        )
            finally:
                if record is not None:
                    done, record = record, None
                    run.outcomes[done()] += 1
                if pending:
                    messages_release(pending)
    finally:
        _running.active = False
        for sender in senders.values():
            close = getattr(sender, "close", None)
            if close is not None:
                close()
    return run


def leases_sweep(*, now=None) -> int:
    """Mark ``unknown`` the rows whose worker stopped mid-send (lease ended); return how many.
    They are never sent again by themselves."""
    now = now or timezone.now()
    count = Message.objects.filter(status=Status.SENDING, lease_until__lt=now).update(
        status=Status.UNKNOWN, last_error=LEASE_ENDED
    )
    if count:
        logger.warning("%d notification(s) in doubt after their worker stopped", count)
    return count
