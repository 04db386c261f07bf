"""What a delivery channel is, and how it says that a send did not happen.

A channel sends one stored message to one person. ``send`` returns normally when the message
was handed over (SMTP accepted it, Telegram answered ok) and raises one of the errors below
otherwise. The outbox worker turns each into a status:

- ``RetryLater``: the peer is busy or down (a timeout, a 5xx, Telegram's 429): try again,
  at ``retry_after`` seconds if the peer said so, else with exponential backoff and jitter;
  after the last try the message is ``failed``.
- ``SkipDelivery``: this person cannot get it here, and trying again will not help (no address,
  the bot is blocked, they opted out): ``skipped``, with the reason kept.
- ``DeliveryFailed``: the peer refused this message for good (a malformed address, a 400):
  ``failed`` at once, with the reason kept.

Any other exception is treated like ``RetryLater`` with backoff: a bug must not lose mail.
A channel never decides that a message was sent twice or not at all: the worker's lease does
(see ``parta.notifications.delivery``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from parta.notifications.models import Message


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    TELEGRAM = "telegram", _("Telegram")
    SITE = "site", _("On the site")


class RetryLater(Exception):
    def __init__(self, reason: str, *, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class SkipDelivery(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class DeliveryFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Sender(Protocol):
    """One channel's sender: ``send(message)`` hands one rendered message to the peer."""

    channel: Channel

    def send(self, message: Message) -> str:
        """Send; return the peer's id for the message ("" when it has none)."""
        ...
