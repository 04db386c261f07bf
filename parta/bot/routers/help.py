"""/help: what the bot can do for this chat."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from parta.bot.texts import help_text


def router() -> Router:
    router = Router(name="help")

    @router.message(Command("help"))
    async def show_help(message: Message, parta_user) -> None:
        await message.answer(help_text(user=parta_user))

    return router
