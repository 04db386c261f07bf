"""Middlewares every update passes: a throttle per chat, then the Parta user and language."""

from __future__ import annotations

import collections
import time
from typing import Any

from aiogram import BaseMiddleware
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import translation

from parta.bot import services


def _chat_id(data: dict[str, Any]) -> int | None:
    chat = data.get("event_chat")
    if chat is not None:
        return chat.id
    sender = data.get("event_from_user")
    return sender.id if sender is not None else None


class ThrottlingMiddleware(BaseMiddleware):
    """At most ``limit`` updates per ``period`` seconds from one chat; the rest are dropped
    (a flood of taps must not become a flood of database queries and replies)."""

    def __init__(self, *, limit: int = 8, period: float = 5.0) -> None:
        self.limit = limit
        self.period = period
        self._seen: dict[int, collections.deque[float]] = {}

    async def __call__(self, handler, event, data):
        chat_id = _chat_id(data)
        if chat_id is None:
            return await handler(event, data)
        now = time.monotonic()
        recent = self._seen.setdefault(chat_id, collections.deque())
        while recent and recent[0] <= now - self.period:
            recent.popleft()
        if len(recent) >= self.limit:
            return None
        recent.append(now)
        if len(self._seen) > 10_000:
            self._seen = {key: value for key, value in self._seen.items() if value}
        return await handler(event, data)


def chat_language(user, sender) -> str:
    """The language to answer in: the user's, or the Telegram app's for a stranger."""
    if user is not None:
        return user.message_language
    offered = {code for code, _name in settings.LANGUAGES}
    code = ((sender.language_code if sender else None) or "").split("-")[0].lower()
    return code if code in offered else settings.LANGUAGE_CODE


class UserMiddleware(BaseMiddleware):
    """``parta_user`` (None for an unlinked chat) for the handlers, and replies in their
    language (the Telegram app's language for a stranger)."""

    async def __call__(self, handler, event, data):
        chat_id = _chat_id(data)
        user = None
        if chat_id is not None:
            user = await sync_to_async(services.chat_user_seen)(chat_id=chat_id)
        data["parta_user"] = user
        with translation.override(chat_language(user, data.get("event_from_user"))):
            return await handler(event, data)
