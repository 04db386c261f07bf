"""/stats: the student's progress in each course."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _

from parta.bot import selectors
from parta.bot.texts import stats_text


def not_linked_text() -> str:
    return _(
        "This chat is not linked to an account yet. Open your profile on the site and "
        "press “Connect Telegram”."
    )


def router() -> Router:
    router = Router(name="stats")

    @router.message(Command("stats"))
    async def stats(message: Message, parta_user) -> None:
        if parta_user is None:
            await message.answer(not_linked_text())
            return
        figures = await sync_to_async(selectors.stats_for)(user=parta_user)
        await message.answer(stats_text(stats=figures))

    return router
