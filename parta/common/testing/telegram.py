"""A fake Telegram Bot API server of our own for tests and benchmarks (aiohttp on loopback).

It answers the methods Parta uses (getMe, sendMessage, editMessageText, answerCallbackQuery,
getUpdates with offset and long-polling timeout, setWebhook, deleteWebhook), records every
request, and misbehaves on request: 429 with ``retry_after``, 403 "bot was blocked by the
user", 400 "group chat was upgraded to a supergroup chat" with ``migrate_to_chat_id``, or a
5xx, for one chat or for the next N calls; and it can hold itself to L messages a second
overall (429 above that). Tests push updates into its getUpdates queue so that the real
dispatcher runs on them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from parta.common.testing.processes import free_port

TOKEN = "123456:TEST-parta-fake-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Parta",
    "username": "parta_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
SENDING_METHODS = {"sendmessage", "editmessagetext"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str
    at: float
    status: int = 200

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value not in (None, "") else None

    @property
    def text(self) -> str:
        return self.params.get("text", "")

    @property
    def reply_markup(self) -> dict | None:
        value = self.params.get("reply_markup")
        return json.loads(value) if isinstance(value, str) else value


@dataclass
class Failure:
    """One way to fail: ``kind`` in {"429", "403", "migrate", "5xx"}."""

    kind: str
    method: str | None = None
    chat_id: int | None = None
    times: int | None = None  # None: until cleared
    retry_after: int = 3
    migrate_to: int | None = None
    status: int = 500


@dataclass
class FakeTelegram:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    # Messages a second accepted overall (None: no limit); above it, 429 retry_after=1.
    rate_limit: float | None = None
    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._updates: list[dict] = []
        self._accepted_times: collections.deque[float] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._updates_arrived: asyncio.Condition | None = None
        self._delivered: dict[int, int] = collections.Counter()
        self.webhook_url = ""

    # --- life ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeTelegram:
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._updates_arrived = asyncio.Condition()
            app = web.Application(client_max_size=4 * 1024 * 1024)
            app.router.add_route("*", "/bot{token}/{method}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self.host, self.port)
            self._loop.run_until_complete(site.start())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="fake-telegram", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Telegram server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # --- telling it what to do ---------------------------------------------------------

    def fail(self, kind: str, **kwargs: Any) -> Failure:
        failure = Failure(kind=kind, **kwargs)
        with self.changed:
            self.failures.append(failure)
        return failure

    def clear_failures(self) -> None:
        with self.changed:
            self.failures.clear()

    def push_update(self, update: dict) -> dict:
        """Queue one update for getUpdates (its update_id is given here)."""
        update = {"update_id": next(self._update_ids), **update}

        async def add() -> None:
            async with self._updates_arrived:
                self._updates.append(update)
                self._updates_arrived.notify_all()

        asyncio.run_coroutine_threadsafe(add(), self._loop).result(5)
        return update

    def push_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language: str = "en",
        reply_to: int | None = None,
        message_id: int | None = None,
    ) -> dict:
        """A person's message in ``chat_id``; with ``reply_to`` it is a Telegram reply to
        the bot's message of that id (as sent earlier in that chat). ``message_id`` fixes the
        message's own id (to send the same update again)."""
        sender = {
            "id": user_id or chat_id,
            "is_bot": False,
            "first_name": "Student",
            "language_code": language,
        }
        message = {
            "message_id": message_id or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Student"},
            "from": sender,
            "text": text,
        }
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Student"},
                "from": BOT_USER,
                "text": "…",
            }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.push_update({"message": message})

    def push_callback(
        self, chat_id: int, data: str, *, message_id: int = 1, language: str = "en"
    ) -> dict:
        sender = {
            "id": chat_id,
            "is_bot": False,
            "first_name": "Student",
            "language_code": language,
        }
        return self.push_update(
            {
                "callback_query": {
                    "id": str(next(self._update_ids) + 10_000),
                    "from": sender,
                    "chat_instance": str(chat_id),
                    "data": data,
                    "message": {
                        "message_id": message_id,
                        "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private"},
                        "from": BOT_USER,
                        "text": "…",
                    },
                }
            }
        )

    # --- reading what happened ----------------------------------------------------------

    def pending_update_ids(self) -> set[int]:
        """Updates pushed and not yet confirmed by a getUpdates with a later offset."""
        return {update["update_id"] for update in list(self._updates)}

    def requests(self, method: str | None = None, *, ok_only: bool = False) -> list[Call]:
        with self.changed:
            calls = list(self.calls)
        return [
            call
            for call in calls
            if (method is None or call.method.lower() == method.lower())
            and (not ok_only or call.status == 200)
        ]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages accepted (answered 200), in order."""
        return [
            call
            for call in self.requests("sendMessage", ok_only=True)
            if chat_id is None or call.chat_id == chat_id
        ]

    def delivered_counts(self) -> dict[int, int]:
        """chat id → messages accepted for it."""
        with self.changed:
            return dict(self._delivered)

    def wait_for(self, predicate, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the fake Telegram did not see it in {timeout}s")
                self.changed.wait(left)

    def wait_for_sent(self, count: int, chat_id: int | None = None, timeout: float = 10.0):
        self.wait_for(lambda: len(self._sent_unlocked(chat_id)) >= count, timeout)
        return self.sent(chat_id)

    def _sent_unlocked(self, chat_id: int | None) -> list[Call]:
        return [
            call
            for call in self.calls
            if call.method.lower() == "sendmessage"
            and call.status == 200
            and (chat_id is None or call.chat_id == chat_id)
        ]

    # --- serving ------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict((await request.post()).items()))
        return params

    def _failure_for(self, method: str, chat_id: int | None) -> Failure | None:
        for failure in self.failures:
            if failure.method and failure.method.lower() != method:
                continue
            if failure.chat_id is not None and failure.chat_id != chat_id:
                continue
            if (
                failure.method is None
                and failure.chat_id is None
                and method not in SENDING_METHODS
            ):
                continue
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
            return failure
        return None

    def _over_rate(self, now: float) -> bool:
        if self.rate_limit is None:
            return False
        window = self._accepted_times
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.rate_limit:
            return True
        window.append(now)
        return False

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        token = request.match_info["token"]
        params = await self._params(request)
        now = time.monotonic()
        call = Call(method=request.match_info["method"], params=params, token=token, at=now)
        status, body = self._answer(method, token, call, now)
        call.status = status
        with self.changed:
            self.calls.append(call)
            if status == 200 and method == "sendmessage":
                self._delivered[call.chat_id] += 1
            self.changed.notify_all()
        if method == "getupdates" and status == 200:
            body = {"ok": True, "result": await self._get_updates(params)}
        return web.json_response(body, status=status)

    def _answer(self, method: str, token: str, call: Call, now: float) -> tuple[int, dict]:
        if token != TOKEN:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        with self.changed:
            failure = self._failure_for(method, call.chat_id)
        if failure is not None:
            return self._failure_answer(failure)
        if method in SENDING_METHODS and self._over_rate(now):
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
        if method == "getme":
            return 200, {"ok": True, "result": BOT_USER}
        if method == "sendmessage":
            return 200, {"ok": True, "result": self._message(call)}
        if method in {"editmessagetext", "editmessagereplymarkup"}:
            return 200, {"ok": True, "result": self._message(call, int(call.params["message_id"]))}
        if method in {"answercallbackquery", "deletewebhook", "setmycommands"}:
            if method == "deletewebhook":
                self.webhook_url = ""
            return 200, {"ok": True, "result": True}
        if method == "setwebhook":
            self.webhook_url = call.params.get("url", "")
            return 200, {"ok": True, "result": True}
        if method == "getupdates":
            return 200, {"ok": True, "result": []}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _message(self, call: Call, message_id: int | None = None) -> dict:
        result = {
            "message_id": message_id or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": call.chat_id, "type": "private"},
            "from": BOT_USER,
            "text": call.text,
        }
        if call.reply_markup:
            result["reply_markup"] = call.reply_markup
        return result

    @staticmethod
    def _failure_answer(failure: Failure) -> tuple[int, dict]:
        if failure.kind == "429":
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {failure.retry_after}",
                "parameters": {"retry_after": failure.retry_after},
            }
        if failure.kind == "403":
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        if failure.kind == "migrate":
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": failure.migrate_to},
            }
        if failure.kind == "400":
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }
        return failure.status, {
            "ok": False,
            "error_code": failure.status,
            "description": "Internal Server Error",
        }

    async def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        async with self._updates_arrived:
            # Telegram forgets updates below the offset: they were confirmed.
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
            if not self._updates and timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._updates_arrived.wait(), timeout)
            return list(self._updates)


def telegram_peer_for(settings) -> FakeTelegram:
    """Start a fake server and point Parta's settings at it (the caller stops it)."""
    from parta.notifications import telegram_api

    peer = FakeTelegram().start()
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_API_BASE = peer.base_url
    settings.TELEGRAM_BOT_USERNAME = ""
    telegram_api.get_limiter().reset()
    return peer


try:
    import pytest
except ImportError:  # the benchmark imports this module without pytest
    pytest = None

if pytest is not None:

    @pytest.fixture
    def telegram_peer(settings):
        """The fake Bot API server, with TELEGRAM_API_BASE and TELEGRAM_BOT_TOKEN set for it;
        ``telegram_peer.base_url``, ``.calls`` / ``.sent()`` (recorded requests), ``.fail(...)``,
        ``.push_message(...)``."""
        from parta.notifications import telegram_api

        peer = telegram_peer_for(settings)
        yield peer
        telegram_api.telegram_close(all_threads=True)
        telegram_api.get_limiter().reset()
        peer.stop()
