from __future__ import annotations

import asyncio
import threading
import time

import pytest
from asgiref.sync import async_to_sync

from parta.bot.dispatcher import build_dispatcher
from parta.notifications.telegram_api import make_bot


class BotRun:
    """The real dispatcher polling the fake server's getUpdates, in a thread of its own (the
    test's thread may run Playwright's loop); its database work is done there, so the tests
    commit their rows (``django_db(transaction=True)``)."""

    def __init__(self, peer):
        self.peer = peer

    def _calls(self) -> int:
        return sum(1 for call in self.peer.requests() if call.method.lower() != "getupdates")

    def __call__(self, *pushes, replies: int, timeout: float = 10.0):
        """Push the updates, run until ``replies`` more messages were sent; the new ones."""
        before = len(self.peer.sent())

        async def scenario():
            bot = make_bot()
            dispatcher = build_dispatcher()
            polling = asyncio.create_task(
                dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1)
            )
            pushed = [push() for push in pushes]
            ids = {update["update_id"] for update in pushed if isinstance(update, dict)}
            deadline = time.monotonic() + timeout
            while len(self.peer.sent()) < before + replies and time.monotonic() < deadline:
                if polling.done():
                    break
                await asyncio.sleep(0.02)
            if replies == 0:
                # Nothing to count: wait until the bot has taken the updates and then
                # until its calls (callback answers, edits) stop coming for a moment.
                while time.monotonic() < deadline and not polling.done():
                    if not ids & self.peer.pending_update_ids():
                        break
                    await asyncio.sleep(0.02)
                seen, quiet_since = self._calls(), time.monotonic()
                while time.monotonic() < deadline and time.monotonic() - quiet_since < 0.5:
                    await asyncio.sleep(0.02)
                    now_seen = self._calls()
                    if now_seen != seen:
                        seen, quiet_since = now_seen, time.monotonic()
            # Give a stray extra reply a moment to show up (tests assert exact counts).
            await asyncio.sleep(0.1)
            if not polling.done():
                await dispatcher.stop_polling()
            await polling

        failures: list[BaseException] = []

        def run() -> None:
            try:
                async_to_sync(scenario)()
            except BaseException as exc:
                failures.append(exc)
            finally:
                from django.db import connections

                connections.close_all()

        thread = threading.Thread(target=run, name="bot-run")
        thread.start()
        thread.join(timeout + 30)
        if failures:
            raise failures[0]
        sent = self.peer.sent()[before:]
        assert len(sent) >= replies, [call.text for call in sent]
        return sent


@pytest.fixture
def run_bot(telegram_peer, settings):
    settings.PARTA_TELEGRAM_CHAT_INTERVAL = 0.01
    return BotRun(telegram_peer)
