"""The bot's dispatcher: middlewares, the feature routers, and a last word on errors."""

from __future__ import annotations

import importlib
import logging

from aiogram import Dispatcher
from aiogram.types import ErrorEvent
from asgiref.sync import sync_to_async
from django.utils import translation
from django.utils.translation import gettext as _

from parta.bot import services
from parta.bot.middlewares import ThrottlingMiddleware, UserMiddleware, chat_language
from parta.bot.routers import FALLBACK, FEATURES

logger = logging.getLogger(__name__)


def build_dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.update.outer_middleware(ThrottlingMiddleware())
    dispatcher.update.outer_middleware(UserMiddleware())
    for path in [*FEATURES, FALLBACK]:
        dispatcher.include_router(importlib.import_module(path).router())

    @dispatcher.errors()
    async def on_error(event: ErrorEvent) -> bool:
        # The loop goes on whatever one update did; the person hears that it failed.
        logger.exception("bot update %s failed", event.update.update_id, exc_info=event.exception)
        query = event.update.callback_query
        message = event.update.message or (query.message if query else None)
        if message is None:
            return True
        sender = event.update.message.from_user if event.update.message else query.from_user
        try:
            # The user middleware's language has ended by now: find it again.
            user = await sync_to_async(services.chat_user_seen)(chat_id=message.chat.id)
        except Exception:
            user = None
        try:
            with translation.override(chat_language(user, sender)):
                await message.answer(
                    _("Something went wrong on our side. Please try again later.")
                )
        except Exception:
            logger.warning("could not tell the chat about the error", exc_info=True)
        return True

    return dispatcher


_webhook_dispatcher: Dispatcher | None = None


def webhook_dispatcher() -> Dispatcher:
    """One dispatcher per process for webhook requests."""
    global _webhook_dispatcher
    if _webhook_dispatcher is None:
        _webhook_dispatcher = build_dispatcher()
    return _webhook_dispatcher
