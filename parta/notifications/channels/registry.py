"""Which sender delivers a channel's messages.

Senders are named by import path so that a channel's module (and its SDK) is imported only by
the workers that send on it; ``PARTA_NOTIFY_SENDERS`` (a dict channel -> path) overrides
entries, e.g. in tests.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from parta.notifications.channels.base import Channel, Sender

SENDERS: dict[str, str] = {
    Channel.EMAIL: "parta.notifications.channels.email.EmailSender",
    Channel.TELEGRAM: "parta.notifications.channels.telegram.TelegramSender",
    Channel.SITE: "parta.notifications.channels.site.SiteSender",
}


class ChannelUnavailable(LookupError):
    """No sender can be loaded for a channel (its module is not installed)."""


def sender_path(channel: Channel | str) -> str:
    paths = {**SENDERS, **getattr(settings, "PARTA_NOTIFY_SENDERS", {})}
    try:
        return paths[channel]
    except KeyError:
        raise ChannelUnavailable(f"no sender for channel {channel!r}") from None


@cache
def _sender_class(path: str) -> type:
    try:
        return import_string(path)
    except ImportError as exc:
        raise ChannelUnavailable(f"{path} cannot be imported: {exc}") from exc


def sender_for(channel: Channel | str) -> Sender:
    """A fresh sender for ``channel`` (a worker keeps it for a run: it may hold a connection)."""
    return _sender_class(sender_path(channel))()
