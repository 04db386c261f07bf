"""Telling people things: ``notify`` stores the message in the caller's transaction; the
workers deliver it after commit (``parta.notifications.delivery``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from parta.notifications.channels.base import Channel
from parta.notifications.kinds import get_kind
from parta.notifications.models import Message


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
