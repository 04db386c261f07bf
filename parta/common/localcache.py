"""A per-process mirror of answers from the shared cache, kept exact by Redis pub/sub.

Some questions are asked thousands of times a second with the same few arguments (the
access check); one round trip to Redis then costs more than the rest of the answer.
A ``LocalMirror`` keeps such answers in the process, in groups (one per user, say).
A writer calls ``announce(group)`` once its change has committed, and every process
drops that group before its next read: pending announcements are read from the
subscription's socket on the request's own thread, before every lookup, so once an
announcement has reached a process nothing older is served from its memory.

Safety rules:
- Memory is used only while the subscription is known to be live: from Redis's
  confirmation of the SUBSCRIBE on, and again a second after a reconnection (messages
  sent while the connection was down are lost, so a reconnection empties the mirror).
- A value read from Redis is stored only if no announcement arrived in between (the
  token handed out by ``get``), so a change that lands mid-request is never hidden.
- Entries also expire after ``max_age`` seconds, a bound for failures nobody noticed.

While Redis is down the subscription is lost, so memory is not used either (the cache
answers from the database meanwhile, see parta.common.cache), and announcements fail
quietly. Without Redis (the database cache of a deployment without ``REDIS_URL``) the
mirror is off: ``get`` always misses and ``put`` stores nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any

from django.core.cache import caches

logger = logging.getLogger(__name__)

# After a reconnection, how long memory stays unused while the new SUBSCRIBE settles.
RESYNC_SECONDS = 1.0
# After a failed subscription, how long before trying again.
RETRY_SECONDS = 5.0


def _redis_client():
    """The default cache's Redis client, or None when the cache is not Redis."""
    try:
        from django_redis import get_redis_connection
    except ImportError:  # pragma: no cover - django-redis is a dependency
        return None
    try:
        return get_redis_connection("default")
    except NotImplementedError:
        return None


class LocalMirror:
    def __init__(self, name: str, *, max_groups: int = 50_000, max_age: float = 60.0):
        self.name = name
        self.max_groups = max_groups
        self.max_age = max_age
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._enabled = False
        self._pubsub = None
        self._groups: dict[str, dict[Any, tuple[float, Any]]] = {}
        # Bumped whenever the mirror drops anything: a put with an older token is refused.
        self._epoch = 0
        self._trusted_from = float("inf")
        self._retry_at = 0.0
        self._failing = False

    @property
    def channel(self) -> str:
        return caches["default"].make_key(f"mirror:{self.name}")

    # --- reads and writes ---------------------------------------------------------------

    def get(self, group, key) -> tuple[Any, int | None]:
        """``(value or None, token)``. Pass the token to ``put`` when storing what was
        read elsewhere; it is None when the mirror cannot be used now."""
        group = str(group)
        with self._lock:
            if not self._ready():
                return None, None
            item = self._groups.get(group, {}).get(key)
            if item is None or time.monotonic() - item[0] > self.max_age:
                return None, self._epoch
            return item[1], self._epoch

    def put(self, group, key, value, token: int | None) -> None:
        """Store ``value``, read after ``get`` handed out ``token``, unless anything was
        dropped since then (the value may predate that change)."""
        if token is None:
            return
        group = str(group)
        with self._lock:
            if not self._ready() or token != self._epoch:
                return
            if group not in self._groups and len(self._groups) >= self.max_groups:
                self._clear()
            self._groups.setdefault(group, {})[key] = (time.monotonic(), value)

    def announce(self, group) -> None:
        """Tell every process (this one included) to drop ``group``. Call it after the
        change is visible to readers, i.e. after commit. This process drops it at once
        (its own announcement may reach its socket a moment after the publish returns)."""
        client = _redis_client()
        if client is None:
            return
        with self._lock:
            self._groups.pop(str(group), None)
            self._epoch += 1
        try:
            client.publish(self.channel, str(group))
        except Exception:
            # Redis is down: so is every subscription, and a mirror without one keeps
            # nothing in memory until it has subscribed again (and emptied itself).
            logger.debug("Local cache %s could not announce %s", self.name, group)

    def clear(self) -> None:
        """Drop everything held in this process (tests call it between cases)."""
        with self._lock:
            self._clear()

    # --- the subscription ---------------------------------------------------------------

    def _clear(self) -> None:
        self._groups.clear()
        self._epoch += 1

    def _ready(self) -> bool:
        """Apply the announcements received so far. False when memory must not be used."""
        if self._pid != os.getpid():
            # First use in this process, or a forked child: the parent's subscription
            # and memory are not ours (dropped without closing the shared socket).
            self._pid = os.getpid()
            self._pubsub = None
            self._enabled = _redis_client() is not None
            self._clear()
        if not self._enabled:
            return False
        if self._pubsub is None and not self._subscribe():
            return False
        try:
            while (message := self._pubsub.get_message(timeout=0)) is not None:
                if message["type"] == "message":
                    self._groups.pop(message["data"].decode(), None)
                    self._epoch += 1
        except Exception:  # any failure of the subscription: stop trusting memory
            logger.warning("Local cache %s lost its subscription", self.name, exc_info=True)
            self._drop_subscription()
            return False
        return time.monotonic() >= self._trusted_from

    def _subscribe(self) -> bool:
        now = time.monotonic()
        if now < self._retry_at:
            return False
        pubsub = None
        try:
            pubsub = _redis_client().pubsub()
            pubsub.subscribe(self.channel)
            # From Redis's confirmation on, every announcement reaches this process.
            confirmation = pubsub.get_message(timeout=1.0)
            if not confirmation or confirmation["type"] != "subscribe":
                raise ConnectionError(f"no confirmation of the subscription: {confirmation}")
            pubsub.connection.register_connect_callback(self._reconnected)
        except Exception as error:
            # Once per outage: the cache itself reports Redis's absence as well.
            if not self._failing:
                logger.warning("Local cache %s could not subscribe: %s", self.name, error)
            self._failing = True
            if pubsub is not None:
                pubsub.close()
            self._retry_at = now + RETRY_SECONDS
            return False
        self._pubsub = pubsub
        self._failing = False
        self._clear()
        self._trusted_from = time.monotonic()
        return True

    def _reconnected(self, connection) -> None:
        # Called by redis-py (inside get_message, under our lock) when it reconnects
        # the subscription by itself: whatever was announced meanwhile is lost.
        self._clear()
        self._trusted_from = time.monotonic() + RESYNC_SECONDS

    def _drop_subscription(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        self._clear()
        self._trusted_from = float("inf")
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if pubsub is not None:
            with contextlib.suppress(Exception):  # the connection is already broken
                pubsub.close()
