"""Anything no feature took (unknown commands, plain text, stale buttons): the help."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from django.utils.translation import gettext as _

from parta.bot.texts import help_text


def router() -> Router:
    router = Router(name="fallback")

    @router.message()
    async def anything(message: Message, parta_user) -> None:
        await message.answer(help_text(user=parta_user))

    @router.callback_query()
    async def stale_button(query: CallbackQuery) -> None:
        await query.answer(_("This button no longer works."))

    return router
