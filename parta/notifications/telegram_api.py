"""Parta's one door to the Telegram Bot API: the bot object, the shared limiter, and sending.

Everything Parta sends to Telegram (the outbox's messages and the bot's own replies) goes
through a Bot made by ``make_bot``, whose session passes every chat-bound call through one
limiter: at most ``PARTA_TELEGRAM_RATE`` messages a second overall and one message every
``PARTA_TELEGRAM_CHAT_INTERVAL`` seconds to a chat, for all workers together.

The limiter lives in Redis when ``REDIS_URL`` is set (one Lua script reserves the next global
slot and the chat's slot atomically, on Redis's clock). Without Redis it goes through Django's
default cache, which is then the database cache shared by every process (see
config/settings/cache.py): slots are keys that only one ``add`` can win. Slower (a few
writes per message), but right at Telegram's 25/s, and it needs no table of its own.

``telegram_send`` is the synchronous entry for the outbox worker: each thread keeps one event
loop and one Bot (one HTTP connection pool) for its life, closed by ``telegram_close`` or at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.methods.base import Response
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError

from parta.common.live import live, live_generation
from parta.notifications.channels.base import DeliveryFailed, RetryLater, SkipDelivery

logger = logging.getLogger(__name__)

# Telegram's own cap on a message's text (after entities are parsed).
TEXT_LIMIT = 4096


class BotBlocked(SkipDelivery):
    """Telegram said 403: the person blocked the bot (or deleted their account)."""

    def __init__(self, detail: str = ""):
        super().__init__("blocked")
        self.detail = detail


class ChatMigrated(Exception):
    """A group became a supergroup: its messages go to ``new_chat_id`` from now on."""

    def __init__(self, new_chat_id: int):
        super().__init__(f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


def telegram_enabled() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN)


# --- The limiter ------------------------------------------------------------------------


class Limiter(Protocol):
    def reserve(self, chat_id: int | str) -> tuple[bool, float]:
        """Try to book a send to ``chat_id``. ``(True, wait)``: booked, send in ``wait``
        seconds. ``(False, wait)``: the chat had a message too recently, ask again in
        ``wait`` seconds (nothing booked, so a busy chat never holds up the others)."""
        ...

    def reset(self) -> None: ...


class CacheLimiter:
    """The limiter through Django's default cache when there is no Redis: the database cache
    (``parta_cache``), which every process shares. Claims are keys taken with ``add``, which
    only one process can win (an INSERT under the key's unique constraint); expiry is not
    relied on for timing (the database cache keeps it to the second).

    Global: time is cut into slots of 1/rate s, one key each. A chat: time is cut into
    buckets of the chat interval; a send claims its slot's bucket and then looks at both
    neighbours: a claim there less than an interval away means both may not go (whoever
    looks last sees the other: claims are written before they are checked)."""

    # How far ahead a sender may book a global slot.
    HORIZON = 10.0

    def __init__(self) -> None:
        self._hint = 0  # the last global slot this process took: start looking after it
        self._lock = threading.Lock()

    def reserve(self, chat_id: int | str) -> tuple[bool, float]:
        rate, chat_interval = _limits()
        now = time.time()
        with self._lock:
            first = max(math.ceil(now * rate), self._hint + 1)
        slot = None
        for index in range(first, first + int(rate * self.HORIZON) + 1):
            if cache.add(f"telegram:limit:slot:{index}", 1, timeout=self.HORIZON + 5):
                slot = index
                break
        if slot is None:
            return False, 1.0
        with self._lock:
            self._hint = max(self._hint, slot)
        at = slot / rate
        bucket = math.floor(at / chat_interval)
        prefix = f"telegram:limit:chat:{chat_id}"
        keep = 3 * chat_interval + self.HORIZON + 5
        if not cache.add(f"{prefix}:{bucket}", at, timeout=keep):
            return False, chat_interval / 2
        try:
            neighbours = cache.get_many([f"{prefix}:{bucket - 1}", f"{prefix}:{bucket + 1}"])
        except DatabaseError:
            neighbours = {"busy": at}
        if any(abs(at - float(other)) < chat_interval for other in neighbours.values()):
            with contextlib.suppress(DatabaseError):
                cache.delete(f"{prefix}:{bucket}")
            return False, chat_interval / 2
        return True, max(0.0, at - now)

    def reset(self) -> None:
        with self._lock:
            self._hint = 0


_RESERVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local global_interval = tonumber(ARGV[1])
local chat_interval = tonumber(ARGV[2])
local chat_tat = tonumber(redis.call('GET', KEYS[2]) or '0')
if chat_tat > now then
  return {0, tostring(chat_tat - now)}
end
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local global_next = slot + global_interval
local chat_next = slot + chat_interval
redis.call('SET', KEYS[1], string.format('%.6f', global_next),
  'PX', math.ceil((global_next - now) * 1000) + 1000)
redis.call('SET', KEYS[2], string.format('%.6f', chat_next),
  'PX', math.ceil((chat_next - now) * 1000) + 1000)
return {1, tostring(slot - now)}
"""


class RedisLimiter:
    """The limiter shared by every process and machine through Redis (its clock, one script)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._script = self._client.register_script(_RESERVE_SCRIPT)
        self._prefix = f"{prefix}:telegram:limit"

    def reserve(self, chat_id: int | str) -> tuple[bool, float]:
        rate, chat_interval = _limits()
        booked, wait = self._script(
            keys=[f"{self._prefix}:global", f"{self._prefix}:chat:{chat_id}"],
            args=[1.0 / rate, chat_interval],
        )
        return bool(int(booked)), max(0.0, float(wait))

    def reset(self) -> None:
        keys = list(self._client.scan_iter(f"{self._prefix}:*", count=1000))
        if keys:
            self._client.delete(*keys)


# The rate is read before every message: each process keeps it this long, so a change made
# at /crm/settings/ reaches every sender within a second, without a cache lookup per message.
LIMITS_SECONDS = 1.0
_limits_kept: tuple[tuple, float, tuple[float, float]] | None = None


def _limits() -> tuple[float, float]:
    """(messages a second overall, seconds between two messages to one chat). The rate is a
    live setting (staff change it at /crm/settings/); the interval is Telegram's."""
    global _limits_kept
    key = (live_generation(), settings.PARTA_TELEGRAM_RATE, settings.PARTA_TELEGRAM_CHAT_INTERVAL)
    kept = _limits_kept
    now = time.monotonic()
    if kept is not None and kept[0] == key and now - kept[1] < LIMITS_SECONDS:
        return kept[2]
    limits = float(live("TELEGRAM_RATE")), float(settings.PARTA_TELEGRAM_CHAT_INTERVAL)
    _limits_kept = (key, now, limits)
    return limits


_limiter_lock = threading.Lock()
_limiter: tuple[tuple, Limiter] | None = None


def get_limiter() -> Limiter:
    """The limiter for the current settings (a new one after a fork or a settings change)."""
    global _limiter
    key = (os.getpid(), settings.REDIS_URL)
    with _limiter_lock:
        if _limiter is None or _limiter[0] != key:
            if settings.REDIS_URL:
                prefix = settings.CACHES["default"].get("KEY_PREFIX") or "parta"
                limiter: Limiter = RedisLimiter(settings.REDIS_URL, prefix)
            else:
                limiter = CacheLimiter()
            _limiter = (key, limiter)
        return _limiter[1]


async def wait_for_slot(chat_id: int | str) -> None:
    limiter = get_limiter()
    while True:
        booked, wait = limiter.reserve(chat_id)
        if wait > 0:
            await asyncio.sleep(wait)
        if booked:
            return


# aiogram reads every answer as ``Response[<the method's result type>]``, a pydantic generic
# model that pydantic caches only weakly: once the garbage collector has taken it, the next
# answer builds it again (15 ms or more of CPU). These keep one of each alive.
_response_types: dict[Any, type] = {}


def response_type(returning: Any) -> type:
    """``Response[returning]``, built once per process and kept."""
    kept = _response_types.get(returning)
    if kept is None:
        kept = _response_types.setdefault(returning, Response[returning])
    return kept


class LimiterMiddleware(BaseRequestMiddleware):
    """Every Bot API call addressed to a chat waits for its slot in the shared limiter."""

    async def __call__(self, make_request, bot, method):
        response_type(method.__returning__)
        chat_id = getattr(method, "chat_id", None)
        if chat_id is not None:
            await wait_for_slot(chat_id)
        return await make_request(bot, method)


# --- The bot object -----------------------------------------------------------------


def make_bot(*, token: str | None = None) -> Bot:
    """A Bot on the configured Bot API, HTML parse mode, every send limited."""
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.TELEGRAM_API_BASE),
        timeout=float(settings.PARTA_TELEGRAM_TIMEOUT),
    )
    session.middleware(LimiterMiddleware())
    return Bot(
        token=token or settings.TELEGRAM_BOT_TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


async def asend(bot: Bot, *, chat_id: int, text: str, reply_markup: Any = None) -> int:
    """Send one HTML message; Telegram's answers become the outbox's errors."""
    if len(text) > TEXT_LIMIT:
        text = text[: TEXT_LIMIT - 1] + "…"
    try:
        sent = await bot.send_message(chat_id=chat_id, text=text, reply_markup=reply_markup)
    except TelegramRetryAfter as exc:
        raise RetryLater(f"Telegram: {exc.message}", retry_after=exc.retry_after) from exc
    except TelegramMigrateToChat as exc:
        raise ChatMigrated(exc.migrate_to_chat_id) from exc
    except TelegramForbiddenError as exc:
        raise BotBlocked(exc.message) from exc
    except (TelegramBadRequest, TelegramNotFound, TelegramEntityTooLarge) as exc:
        raise DeliveryFailed(f"Telegram: {exc.message}") from exc
    except (TimeoutError, TelegramNetworkError) as exc:
        raise RetryLater(f"Telegram unreachable: {exc}") from exc
    except TelegramAPIError as exc:
        # 5xx, 401 (a token being replaced) and the rest: the message waits.
        raise RetryLater(f"Telegram: {exc.message}") from exc
    return sent.message_id


# --- The synchronous entry ----------------------------------------------------------


class _ThreadBot:
    """One event loop and one Bot for one thread, kept between sends."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.bot: Bot | None = None
        self.key: tuple | None = None

    def run(self, call: Callable[[Bot], Awaitable[Any]]) -> Any:
        key = (settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_BASE)
        if self.key != key:
            self._close_bot()
            self.bot, self.key = make_bot(), key
        return self.loop.run_until_complete(call(self.bot))

    def _close_bot(self) -> None:
        if self.bot is not None:
            try:
                self.loop.run_until_complete(self.bot.session.close())
            except Exception:  # closing must never hide the real work's outcome
                logger.exception("closing the Telegram session failed")
            self.bot = self.key = None

    def close(self) -> None:
        if self.loop.is_closed() or self.loop.is_running():
            return

        def close_here() -> None:
            self._close_bot()
            self.loop.close()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            close_here()
        else:
            # This thread runs a loop of its own (Playwright's, an ASGI server's): ours may
            # not run inside it, so it is closed from a thread of its own.
            closer = threading.Thread(target=close_here, name="telegram-close")
            closer.start()
            closer.join(10)


_local = threading.local()
_thread_bots: list[_ThreadBot] = []
_thread_bots_lock = threading.Lock()


def _thread_bot() -> _ThreadBot:
    current = getattr(_local, "bot", None)
    if current is None or current.pid != os.getpid() or current.loop.is_closed():
        current = _ThreadBot()
        _local.bot = current
        with _thread_bots_lock:
            _thread_bots.append(current)
    return current


def run_with_bot(call: Callable[[Bot], Awaitable[Any]]) -> Any:
    """Run ``call(bot)`` on this thread's loop and Bot (from synchronous code only)."""
    if not telegram_enabled():
        raise SkipDelivery("bot not configured")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _thread_bot().run(call)
    # This thread already runs an event loop (an ASGI server's, Playwright's): ours may not
    # run inside it, so the call goes to one helper thread with its own loop and Bot.
    return _sidecar().submit(lambda: _thread_bot().run(call)).result()


_sidecar_executor: tuple[int, ThreadPoolExecutor] | None = None


def _sidecar() -> ThreadPoolExecutor:
    global _sidecar_executor
    with _thread_bots_lock:
        if _sidecar_executor is None or _sidecar_executor[0] != os.getpid():
            _sidecar_executor = (
                os.getpid(),
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="telegram"),
            )
        return _sidecar_executor[1]


def telegram_send(
    *,
    chat_id: int,
    text: str,
    reply_markup: Any = None,
    on_migrate: Callable[[int], None] | None = None,
) -> int:
    """Send ``text`` (HTML: callers escape what they insert) to ``chat_id``; the message id.

    Raises RetryLater (429 with its retry_after, 5xx, network), BotBlocked (a SkipDelivery:
    403), DeliveryFailed (400), SkipDelivery("bot not configured"). A group that became a
    supergroup is followed once: ``on_migrate(new_chat_id)`` is called to store the new id
    (outside the event loop, so it may use the ORM), then the message goes there.
    """

    def send_to(target: int):
        return lambda bot: asend(bot, chat_id=target, text=text, reply_markup=reply_markup)

    try:
        return run_with_bot(send_to(chat_id))
    except ChatMigrated as moved:
        if on_migrate is not None:
            on_migrate(moved.new_chat_id)
        try:
            return run_with_bot(send_to(moved.new_chat_id))
        except ChatMigrated as again:
            raise DeliveryFailed(f"Telegram: chat migrated twice ({again.new_chat_id})") from again


def telegram_close(*, all_threads: bool = False) -> None:
    """Close this thread's Bot session and loop (a worker thread ending; tests), or every
    thread's at exit."""
    if all_threads:
        with _thread_bots_lock:
            bots = [bot for bot in _thread_bots if bot.pid == os.getpid()]
            _thread_bots.clear()
    else:
        current = getattr(_local, "bot", None)
        bots = [current] if current is not None else []
        with _thread_bots_lock:
            if current in _thread_bots:
                _thread_bots.remove(current)
    for bot in bots:
        bot.close()
    _local.bot = None


atexit.register(telegram_close, all_threads=True)


def telegram_bot_username() -> str:
    """The bot's @username (without @) for deep links; "" when unknown or the bot is off."""
    if not telegram_enabled():
        return ""
    if settings.TELEGRAM_BOT_USERNAME:
        return settings.TELEGRAM_BOT_USERNAME
    cache_key = f"telegram:username:{settings.TELEGRAM_BOT_TOKEN.split(':', 1)[0]}"
    username = cache.get(cache_key)
    if username is None:
        try:
            me = run_with_bot(lambda bot: bot.get_me())
        except Exception:  # the profile still renders; the link says the bot is unavailable
            logger.warning("Telegram getMe failed", exc_info=True)
            return ""
        username = me.username or ""
        cache.set(cache_key, username, 3600)
    return username
