"""/start: with a deep link's token it links the chat; without one it greets."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _
from django.utils.translation import override

from parta.bot import services
from parta.bot.texts import help_text
from parta.common.errors import ApplicationError


def router() -> Router:
    router = Router(name="start")
    router.message.filter(F.chat.type == "private")

    @router.message(CommandStart(deep_link=True))
    async def start_with_token(message: Message, command: CommandObject, parta_user) -> None:
        try:
            user = await sync_to_async(services.telegram_link)(
                token=command.args.strip(), chat_id=message.chat.id
            )
        except ApplicationError as exc:
            await message.answer(exc.message)
            return
        with override(user.message_language):
            await message.answer(
                _("Done: this chat is linked to %(name)s. Send /help to see what I can do.")
                % {"name": _escape(user.full_name or user.email)}
            )

    @router.message(CommandStart())
    async def start(message: Message, parta_user) -> None:
        if parta_user is not None:
            greeting = _("Hello, %(name)s! This chat is linked to your account.") % {
                "name": _escape(parta_user.full_name or parta_user.email)
            }
        else:
            greeting = _("Hello!")
        await message.answer(f"{greeting}\n\n{help_text(user=parta_user)}")

    return router


def _escape(value: str) -> str:
    from html import escape

    return escape(value, quote=False)
