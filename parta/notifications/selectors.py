"""Reads for the bell: a person's in-site messages (delivered ones only)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import get_language

from parta.notifications.channels.base import Channel
from parta.notifications.models import Message, Status
from parta.notifications.rendering import render_message


def site_messages(*, user) -> QuerySet[Message]:
    """What the bell shows: the person's ``site`` messages the worker has delivered,
    newest first."""
    return Message.objects.filter(user=user, channel=Channel.SITE, status=Status.SENT).order_by(
        "-created_at", "-id"
    )


def unread_count(*, user) -> int:
    """One COUNT on the bell's index."""
    if not user.is_authenticated:
        return 0
    return site_messages(user=user).filter(read_at__isnull=True).count()


@dataclass(frozen=True)
class BellItem:
    id: int
    kind: str
    subject: str
    text: str
    path: str
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


def bell_items(*, user, messages) -> list[BellItem]:
    """Render a page of messages for the person (no queries: the context holds all), in
    the language of the page they are reading."""
    reader = copy.copy(user)
    reader.language = get_language() or user.message_language
    items = []
    for message in messages:
        rendered = render_message(user=reader, kind=message.kind, context=message.context)
        path = message.context.get("path") or ""
        text = rendered.text
        # Messages end with their link for email and Telegram; the site shows a button.
        if path and text.endswith(f"{settings.PARTA_SITE_URL}{path}"):
            text = text[: -len(f"{settings.PARTA_SITE_URL}{path}")].rstrip()
        items.append(
            BellItem(
                id=message.pk,
                kind=message.kind,
                subject=rendered.subject,
                text=text,
                path=path if isinstance(path, str) and path.startswith("/") else "",
                created_at=message.created_at,
                read_at=message.read_at,
            )
        )
    return items
