"""Cache backends: Redis that fails over to the database, and a database cache that can
hand its entries back.

With ``REDIS_URL`` the default cache is ``FailoverRedisCache``. When Redis cannot be
reached, every call goes to the database cache instead (the ``database`` alias, the same
table as the default cache of a deployment without Redis): pages, rate limits, access
answers and cached tokens keep working, a warning is logged once per outage, and Redis is
tried again every ``RETRY_SECONDS``. Deletions made meanwhile are kept as tombstones.

Before Redis is used again, everything written during the outage is copied back into it
(values with their remaining lifetime, tombstones as deletions) and the database cache
is emptied, so a Redis that comes back from a snapshot cannot serve an answer that a
change made during the outage had replaced (an access version, say).
"""

from __future__ import annotations

import base64
import logging
import pickle
import threading
import time
from datetime import datetime

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, models, router
from django.utils.timezone import now as tz_now
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# How long after a failure Redis is left alone before it is tried again.
RETRY_SECONDS = 5.0
# What a deletion during an outage leaves in the database cache, until it reaches Redis.
TOMBSTONE = "parta.cache:deleted"
# Kept for as long as the longest-lived entry could be.
TOMBSTONE_SECONDS = 7 * 24 * 3600
# A clear() during an outage, to be repeated on Redis.
CLEARED_KEY = "parta.cache:cleared"

REDIS_DOWN = (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError, OSError)


class ReplayableDatabaseCache(DatabaseCache):
    """Django's database cache, plus ``entries()``: every live entry with its expiry."""

    def entries(self) -> list[tuple[str, object, datetime]]:
        db = router.db_for_read(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT {}, {}, {} FROM {}".format(
                    quote_name("cache_key"),
                    quote_name("value"),
                    quote_name("expires"),
                    quote_name(self._table),
                )
            )
            rows = cursor.fetchall()
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        found = []
        now = tz_now()
        for key, value, expires in rows:
            for converter in converters:
                expires = converter(expires, expression, connection)
            if expires < now:
                continue
            value = pickle.loads(base64.b64decode(connection.ops.process_clob(value).encode()))
            found.append((key, value, expires))
        return found

    def unmake_key(self, made: str) -> tuple[str, int] | None:
        """``(key, version)`` for a key made by ``make_key`` with the default key function."""
        prefix = f"{self.key_prefix}:"
        if not made.startswith(prefix):
            return None
        version, _sep, key = made[len(prefix) :].partition(":")
        return (key, int(version)) if version.isdigit() else None


class FailoverRedisCache(RedisCache):
    """django-redis's cache that answers from the database cache while Redis is down."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._fallback_alias = params.get("OPTIONS", {}).get("FALLBACK", "database")
        self._state_lock = threading.Lock()
        self._down = False
        self._retry_at = 0.0

    @property
    def fallback(self) -> ReplayableDatabaseCache:
        return caches[self._fallback_alias]

    @property
    def redis_available(self) -> bool:
        """Whether Redis is being used now (tries it again when it is due)."""
        return self._use_redis()

    # --- choosing where a call goes ----------------------------------------------------

    def _use_redis(self) -> bool:
        if not self._down:
            return True
        with self._state_lock:
            if not self._down:
                return True
            if time.monotonic() < self._retry_at:
                return False
            try:
                self._replay()
            except REDIS_DOWN:
                self._retry_at = time.monotonic() + RETRY_SECONDS
                return False
            self._down = False
            logger.warning("Redis is reachable again; the cache is back on Redis.")
            return True

    def _went_down(self, error: BaseException) -> None:
        with self._state_lock:
            self._retry_at = time.monotonic() + RETRY_SECONDS
            if not self._down:
                self._down = True
                logger.warning(
                    "Redis is unreachable (%s): the cache answers from the database until "
                    "it is back.",
                    error.__cause__ or error,
                )

    def _call(self, name: str, fallback, *args, **kwargs):
        if self._use_redis():
            try:
                return getattr(super(), name)(*args, **kwargs)
            except REDIS_DOWN as error:
                self._went_down(error)
        return fallback(*args, **kwargs)

    def _replay(self) -> None:
        """Copy what was written during the outage into Redis, then forget it."""
        fallback = self.fallback
        entries = fallback.entries()
        client = self.client
        if any(made == fallback.make_key(CLEARED_KEY) for made, _v, _e in entries):
            client.clear()
        else:
            client.get_client(write=True).ping()
        now = tz_now()
        for made, value, expires in entries:
            parsed = fallback.unmake_key(made)
            if parsed is None or parsed[0] == CLEARED_KEY:
                continue
            key, version = parsed
            if value == TOMBSTONE:
                client.delete(key, version=version)
            elif expires.year >= 9999:
                client.set(key, value, timeout=None, version=version)
            else:
                timeout = (expires - now).total_seconds()
                if timeout > 0:
                    client.set(key, value, timeout=timeout, version=version)
        fallback.clear()

    # --- the fallback's side: tombstones for deletions --------------------------------

    def _fallback_get(self, key, default=None, version=None):
        value = self.fallback.get(key, TOMBSTONE, version=version)
        return default if value == TOMBSTONE else value

    def _fallback_get_many(self, keys, version=None):
        found = self.fallback.get_many(keys, version=version)
        return {key: value for key, value in found.items() if value != TOMBSTONE}

    def _fallback_has_key(self, key, version=None):
        return self._fallback_get(key, TOMBSTONE, version=version) != TOMBSTONE

    def _fallback_add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        if self._fallback_has_key(key, version=version):
            return False
        self.fallback.set(key, value, timeout, version=version)
        return True

    def _fallback_set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        self.fallback.set(key, value, timeout, version=version)
        return True

    def _fallback_set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        self.fallback.set_many(data, timeout, version=version)
        return []

    def _fallback_delete(self, key, version=None, **kwargs):
        existed = self._fallback_has_key(key, version=version)
        self.fallback.set(key, TOMBSTONE, TOMBSTONE_SECONDS, version=version)
        return existed

    def _fallback_delete_many(self, keys, version=None, **kwargs):
        self.fallback.set_many(dict.fromkeys(keys, TOMBSTONE), TOMBSTONE_SECONDS, version=version)

    def _fallback_incr(self, key, delta=1, version=None, **kwargs):
        value = self._fallback_get(key, version=version)
        if value is None:
            raise ValueError(f"Key '{key}' not found")
        self.fallback.set(key, value + delta, version=version)
        return value + delta

    def _fallback_decr(self, key, delta=1, version=None, **kwargs):
        return self._fallback_incr(key, -delta, version=version)

    def _fallback_touch(self, key, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        return self._fallback_has_key(key, version=version) and self.fallback.touch(
            key, timeout, version=version
        )

    def _fallback_clear(self):
        self.fallback.clear()
        self.fallback.set(CLEARED_KEY, True, TOMBSTONE_SECONDS)

    # --- Django's cache API --------------------------------------------------------------

    def get(self, key, default=None, version=None, client=None):
        return self._call("get", self._fallback_get, key, default=default, version=version)

    def get_many(self, keys, version=None, **kwargs):
        return self._call("get_many", self._fallback_get_many, keys, version=version)

    def has_key(self, key, version=None, **kwargs):
        return self._call("has_key", self._fallback_has_key, key, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        return self._call("add", self._fallback_add, key, value, timeout, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        return self._call("set", self._fallback_set, key, value, timeout, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        return self._call("set_many", self._fallback_set_many, data, timeout, version=version)

    def delete(self, key, version=None, **kwargs):
        return self._call("delete", self._fallback_delete, key, version=version)

    def delete_many(self, keys, version=None, **kwargs):
        return self._call("delete_many", self._fallback_delete_many, keys, version=version)

    def incr(self, key, delta=1, version=None, **kwargs):
        return self._call("incr", self._fallback_incr, key, delta, version=version)

    def decr(self, key, delta=1, version=None, **kwargs):
        return self._call("decr", self._fallback_decr, key, delta, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        return self._call("touch", self._fallback_touch, key, timeout, version=version)

    def clear(self):
        return self._call("clear", self._fallback_clear)
