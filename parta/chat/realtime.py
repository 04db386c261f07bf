"""Live messages: tell the sockets open on a thread that a message was stored.

The event carries only the message's id; each socket (``parta.chat.consumers``) loads
the message and renders it for its own viewer, so nothing a viewer may not see travels
through the channel layer. Private notes are not messages and are never published.

Called by ``parta.chat.services`` on commit. It never raises into its caller: the
message is stored already, and a page whose socket missed it shows it by polling.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from parta.chat.models import ChatMessage

logger = logging.getLogger(__name__)

EVENT_MESSAGE = "chat.message"


def thread_group(thread_id: int) -> str:
    """The channel group of the sockets open on a thread."""
    return f"chat.thread.{int(thread_id)}"


def message_posted(message: ChatMessage) -> None:
    """Announce ``message`` to the sockets on its thread (``{"type": "chat.message",
    "message_id": id}`` to group ``chat.thread.<thread id>``). Failures are logged."""
    if not isinstance(message, ChatMessage) or message.pk is None:
        logger.warning("not a stored chat message, nothing published: %r", message)
        return
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        event = {"type": EVENT_MESSAGE, "message_id": message.pk}
        _run(_send, layer, thread_group(message.thread_id), event)
    except Exception:
        logger.exception(
            "chat message %s (thread %s) was stored but not pushed to open pages",
            message.pk,
            message.thread_id,
        )


def _run(coroutine_function, *args) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(coroutine_function)(*args)
        return
    # This thread runs an event loop of its own (sync code called straight from async
    # code, Playwright's loop in a browser test): async_to_sync may not run inside it, so
    # the send runs in a helper thread, and is waited for as long as its timeout.
    failure: list[BaseException] = []

    def send_here() -> None:
        try:
            async_to_sync(coroutine_function)(*args)
        except BaseException as exc:
            failure.append(exc)

    helper = threading.Thread(target=send_here, name="chat-realtime", daemon=True)
    helper.start()
    helper.join(settings.PARTA_CHANNELS_SEND_TIMEOUT + 1)
    if failure:
        raise failure[0]


async def _send(layer, group: str, event: dict) -> None:
    await asyncio.wait_for(
        layer.group_send(group, event), timeout=settings.PARTA_CHANNELS_SEND_TIMEOUT
    )
