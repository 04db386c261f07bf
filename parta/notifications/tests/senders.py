"""A channel sender for tests that does what the test scripts, and counts what it sent."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from parta.notifications.channels.base import Channel


class ScriptedSender:
    """Stands in for a channel: ``behaviour(message)`` raises or returns a peer id."""

    channel = Channel.TELEGRAM
    behaviour: Callable | None = None
    sent: Counter = Counter()
    lock = threading.Lock()

    @classmethod
    def reset(cls, behaviour: Callable | None = None) -> None:
        cls.behaviour = behaviour
        cls.sent = Counter()

    def send(self, message) -> str:
        behaviour = type(self).behaviour
        peer_id = behaviour(message) if behaviour is not None else f"peer-{message.pk}"
        with type(self).lock:
            type(self).sent[message.pk] += 1
        return peer_id
