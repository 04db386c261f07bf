"""The kinds of notification Parta sends, registered by the apps that send them.

The outbox sits low (just above accounts) and imports no domain app. A domain app describes
each kind it sends in its ``AppConfig.ready()`` with ``register_kind``; ``notify`` refuses a kind
nobody registered, so a typo fails in tests, not in a user's inbox.

A kind's message is rendered from templates named after it, in the recipient's language:
``notifications/<name>/subject.txt``, ``body.txt`` (email text part, Telegram and the site list),
and optionally ``body.html`` (email HTML part; made from ``body.txt`` when absent). Their context
is the ``context`` given to ``notify`` plus ``user`` and ``site_url``; dates stored in it as ISO
strings become dates again with ``{% load outbox %}{{ value|isodate|date:"j E Y" }}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from parta.notifications.channels.base import Channel


@dataclass(frozen=True)
class Kind:
    name: str
    # What a person sees in their preferences (lazy translation).
    label: str
    # Mandatory kinds (receipts, codes) ignore preferences: they always go.
    mandatory: bool = False
    # The channels this kind goes to, before preferences.
    channels: tuple[Channel, ...] = (Channel.EMAIL, Channel.TELEGRAM, Channel.SITE)
    # Channels that are on until the user switches them off (the rest are opt-in).
    default_on: tuple[Channel, ...] = field(default=())
    # Sent to staff only (sign-in locks): students do not see it among their choices.
    staff_only: bool = False
    # Sent to moderators and staff only (new questions from students): students do not see
    # it among their choices.
    moderators_only: bool = False
    # Extra email headers for one message, e.g. List-Unsubscribe for news:
    # ``email_headers(user=..., context=...) -> dict``. A context may also carry its own
    # under the key ``"email_headers"``; the kind's win on a clash.
    email_headers: Callable[..., dict[str, str]] | None = None
    # Inline buttons under a Telegram message, e.g. Accept / Decline for an invitation:
    # ``telegram_buttons(user=..., context=...) -> [[(text, callback_data), ...], ...]``,
    # called in the person's language when the message is sent.
    telegram_buttons: Callable[..., list[list[tuple[str, str]]]] | None = None

    def __post_init__(self) -> None:
        if not self.default_on:
            object.__setattr__(self, "default_on", self.channels)


_KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> Kind:
    """Register ``kind`` (idempotent for the same description, an error for a different one)."""
    existing = _KINDS.get(kind.name)
    if existing is not None and existing != kind:
        raise ValueError(f"notification kind {kind.name!r} is registered twice, differently")
    _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> Kind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"unknown notification kind {name!r}: register it first") from None


def all_kinds() -> list[Kind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.name)
