"""Telling people things: ``notify`` stores the message in the caller's transaction; the
workers deliver it after commit (``parta.notifications.delivery``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from parta.notifications.channels.base import Channel
from parta.notifications.kinds import get_kind
from parta.notifications.models import Message, Status


def notify(
    *,
    user,
    kind: str,
    context: dict[str, Any] | None = None,
    dedup_key: str,
    channels: Iterable[Channel] | None = None,
) -> None:
    """Store ``kind`` for ``user`` on each of its channels (or the given subset), once per
    ``dedup_key``: telling the same event again stores nothing. One INSERT, no network call;
    delivery starts when the caller's transaction commits, and not at all if it rolls back.

    ``context`` must be JSON-serialisable (ids, strings, numbers, dates): the message is
    rendered when it is sent, in the person's language, from the kind's templates.
    Preferences are applied at delivery, so a choice made after the event still counts.
    """
    described = get_kind(kind)
    wanted = list(described.channels if channels is None else channels)
    unknown = [channel for channel in wanted if channel not in described.channels]
    if unknown:
        raise ValueError(f"kind {kind!r} is not sent by {unknown}")
    rows = [
        Message(
            user=user,
            kind=kind,
            channel=channel,
            dedup_key=dedup_key,
            context=context or {},
        )
        for channel in wanted
    ]
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(_start_delivery)


def _start_delivery() -> None:
    from parta.notifications.tasks import deliver_due

    deliver_due.delay()


def message_record_sent(
    *,
    user,
    kind: str,
    dedup_key: str,
    channel: Channel = Channel.EMAIL,
    context: dict[str, Any] | None = None,
) -> None:
    """Record a message that was sent outside the outbox (a sign-in code, sent while the
    person waits): it shows in the outbox as ``sent`` and is never sent again from there."""
    get_kind(kind)
    now = timezone.now()
    Message.objects.bulk_create(
        [
            Message(
                user=user,
                kind=kind,
                channel=channel,
                dedup_key=dedup_key,
                context=context or {},
                status=Status.SENT,
                attempts=1,
                next_attempt_at=now,
                created_at=now,
                sent_at=now,
            )
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def messages_resend(*, ids: Iterable[int]) -> int:
    """Queue ``failed`` and ``unknown`` messages again, with a fresh set of tries; return
    how many. Rows in any other status are left alone, so a message being sent, or queued
    already, is never sent by two workers at once."""
    count = Message.objects.filter(
        pk__in=list(ids), status__in=[Status.FAILED, Status.UNKNOWN]
    ).update(status=Status.QUEUED, next_attempt_at=timezone.now(), lease_until=None, attempts=0)
    if count:
        transaction.on_commit(_start_delivery)
    return count
