"""Live settings: what staff change at /crm/settings/ without a deploy.

``live("CHAT_ASK_AFTER")`` is the stored value (django-constance, database backend) when
staff have set one, otherwise the environment's setting it stands for (``LIVE_SETTINGS``),
read at that moment, so nothing changes until someone edits it. The stored values are
kept together in one cache entry: a read costs one cache lookup, and the database is
asked only when the entry is missing (once a day, or after a change). ``live_forget``
drops the entry; the writer (parta.crm.live_settings) calls it when its change commits,
so every process sees the new value on its next read, with no restart.

Only a plain lookup here: validation, the form and the audit entry of a change live in
parta.crm.live_settings (common is the bottom layer and imports no app above it).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

CACHE_KEY = "live-settings:v1"
CACHE_SECONDS = 24 * 3600

# Bumped when this process drops or primes the cached values: a reader that keeps a value
# of its own for a moment (the Telegram limiter) sees this process's changes at once.
_generation = 0


def live_generation() -> int:
    return _generation


@dataclass(frozen=True)
class LiveSetting:
    name: str
    # The Django setting that gives the value until staff set one.
    setting: str
    kind: type
    # The range a whole number must be in (the CRM's form refuses anything else).
    minimum: int = 0
    maximum: int = 0

    def default(self) -> Any:
        value = getattr(settings, self.setting)
        if self.kind is int:
            return min(self.maximum, max(self.minimum, round(float(value))))
        return str(value)


LIVE_SETTINGS: dict[str, LiveSetting] = {
    spec.name: spec
    for spec in (
        LiveSetting("SCHOOL_NAME", "PARTA_SCHOOL_NAME", str),
        LiveSetting("SUPPORT_EMAIL", "PARTA_SUPPORT_EMAIL", str),
        LiveSetting("SUPPORT_TELEGRAM", "PARTA_SUPPORT_TELEGRAM", str),
        LiveSetting("SUPPORT_PHONE", "PARTA_SUPPORT_PHONE", str),
        LiveSetting("CHAT_ASK_AFTER", "PARTA_CHAT_ASK_AFTER", int, 0, 100),
        # Telegram allows about 30 messages a second per bot, up to 1,000 with paid
        # broadcasts (and a local Bot API server may allow more).
        LiveSetting("TELEGRAM_RATE", "PARTA_TELEGRAM_RATE", int, 1, 1000),
        LiveSetting("SESSION_REMIND_MINUTES", "PARTA_SESSION_REMIND_MINUTES", int, 1, 7 * 24 * 60),
        LiveSetting("DEFAULT_GROUP_SIZE", "PARTA_DEFAULT_GROUP_SIZE", int, 1, 1000),
    )
}

# Database reads asked for from an event loop (the bot) run here, off the loop.
_loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parta-live")


def _stored_from_database() -> dict[str, Any]:
    from constance import config

    return dict(config._backend.mget(list(LIVE_SETTINGS)))


def _stored_off_the_loop() -> dict[str, Any]:
    from django.db import connections

    try:
        return _stored_from_database()
    finally:
        # This thread's connection is not reused between rare misses: none is left open.
        connections.close_all()


def stored() -> dict[str, Any]:
    """The values staff have set, by name (one cache lookup; one query on a miss)."""
    values = cache.get(CACHE_KEY)
    if values is None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            values = _stored_from_database()
        else:
            if os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"):
                # Django is told to query on this loop's thread (the browser tests'
                # Playwright loop): another thread would not see this thread's transaction.
                values = _stored_from_database()
            else:
                values = _loader.submit(_stored_off_the_loop).result()
        cache.set(CACHE_KEY, values, CACHE_SECONDS)
    return values


def live(name: str) -> Any:
    spec = LIVE_SETTINGS[name]
    value = stored().get(name)
    return spec.default() if value is None else value


def live_all() -> dict[str, Any]:
    """Every live setting's current value, by name."""
    values = stored()
    return {
        name: spec.default() if values.get(name) is None else values[name]
        for name, spec in LIVE_SETTINGS.items()
    }


def live_forget() -> None:
    """Drop the cached values: the next read, in any process, asks the database."""
    global _generation
    _generation += 1
    cache.delete(CACHE_KEY)


def live_prime(values: dict[str, Any]) -> None:
    """Cache ``values`` as what is stored, without asking the database (the test suite
    starts each test this way: its database holds no live settings)."""
    global _generation
    _generation += 1
    cache.set(CACHE_KEY, dict(values), CACHE_SECONDS)
