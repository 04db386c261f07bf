"""Writes for the bell: marking in-site messages read (only a person's own)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.common.errors import NotFound
from parta.notifications.selectors import site_messages


@transaction.atomic
def notification_mark_read(*, user, message_id: int) -> None:
    """Mark one of ``user``'s messages read. Someone else's (or none) is "not found"."""
    messages = site_messages(user=user).filter(pk=message_id)
    marked = messages.filter(read_at__isnull=True).update(read_at=timezone.now())
    if not marked and not messages.exists():
        raise NotFound(_("There is no such notification."))


@transaction.atomic
def notification_mark_all_read(*, user) -> int:
    """Mark every unread message of ``user`` read; returns how many."""
    return site_messages(user=user).filter(read_at__isnull=True).update(read_at=timezone.now())
