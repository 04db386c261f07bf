"""The chat's websocket: ``/ws/chat/threads/<id>/`` pushes each new message of a thread
to the pages open on it, rendered for the page's viewer (``chat/_message.html``).

The socket is authenticated by the session cookie (channels' AuthMiddlewareStack). Only
someone who may see the thread (``thread_for_viewer``: the thread's student, or a
moderator or staff) gets messages; anyone else, signed in or not, is accepted and
closed at once with code 4403, so a page can tell "refused" from "network trouble" and
stop trying. The channel layer carries message ids only (``parta.chat.realtime``); each
socket loads the message itself, from its own thread.
"""

from __future__ import annotations

import json
import logging
from importlib import import_module
from types import SimpleNamespace

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.utils import translation

from parta.chat.models import ChatMessage
from parta.chat.realtime import thread_group
from parta.chat.selectors import thread_for_viewer

logger = logging.getLogger(__name__)

# Closing codes the page understands (4000-4999 are the application's own).
CLOSE_FORBIDDEN = 4403
CLOSE_SERVER_ERROR = 1011


class ThreadConsumer(AsyncWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.thread_id = self.scope["url_route"]["kwargs"]["thread_id"]
        self.language = _language(self.scope)
        if self.user is None or not await self._may_view():
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        group = thread_group(self.thread_id)
        try:
            # Joined before the handshake ends: once the page's socket is open, no new
            # message can pass it by.
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception:
            logger.exception("chat socket on thread %s: the channel layer failed", self.thread_id)
            await self.accept()
            await self.close(code=CLOSE_SERVER_ERROR)
            return
        self.group = group
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is None:
            return
        try:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        except Exception:
            logger.warning("chat socket on thread %s: could not leave its group", self.thread_id)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        """The page sends nothing that matters; whatever arrives is ignored."""

    async def chat_message(self, event: dict) -> None:
        """``{"type": "chat.message", "message_id": id}`` from ``realtime.message_posted``."""
        message_id = event.get("message_id")
        if not isinstance(message_id, int):
            return
        allowed, html = await self._render(message_id)
        if not allowed:
            # Signed out, deactivated, a new password, no longer a moderator: this socket
            # gets nothing more.
            await self.close(code=CLOSE_FORBIDDEN)
        elif html is not None:
            await self.send(
                text_data=json.dumps({"type": "message", "id": message_id, "html": html})
            )

    @database_sync_to_async
    def _may_view(self) -> bool:
        return thread_for_viewer(user=self.user, thread_id=self.thread_id) is not None

    @database_sync_to_async
    def _render(self, message_id: int) -> tuple[bool, str | None]:
        """Whether the socket's session still may see the thread, and the message's HTML
        for its viewer (None for an id that is not a message of this thread)."""
        viewer = _session_user(self.scope)
        if thread_for_viewer(user=viewer, thread_id=self.thread_id) is None:
            return False, None
        message = (
            ChatMessage.objects.select_related("author", "thread")
            .filter(pk=message_id, thread_id=self.thread_id)
            .first()
        )
        if message is None:
            return True, None
        self.user = viewer
        with translation.override(self.language):
            html = render_to_string("chat/_message.html", {"message": message, "viewer": viewer})
        return True, html


class NoRouteConsumer(AsyncWebsocketConsumer):
    """Any other websocket path: refused during the handshake (HTTP 403)."""

    async def connect(self) -> None:
        await self.close()


def _session_user(scope: dict):
    """The user the socket's session stands for now (read again, not as it was when the
    socket opened): anonymous once it was signed out, expired or its password changed."""
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    if not key:
        return AnonymousUser()
    fresh = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    return get_user(SimpleNamespace(session=fresh))


def _language(scope: dict) -> str:
    """The page's language, as SchoolLanguageMiddleware chooses it: the footer's cookie,
    else the school's default."""
    chosen = scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "")
    supported = {code for code, _name in settings.LANGUAGES}
    return chosen if chosen in supported else settings.LANGUAGE_CODE
