"""/unlink: this chat stops receiving the account's messages."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _

from parta.bot import services


def router() -> Router:
    router = Router(name="account")

    @router.message(Command("unlink"))
    async def unlink(message: Message, parta_user) -> None:
        if parta_user is None:
            await message.answer(_("This chat is not linked to any account."))
            return
        await sync_to_async(services.telegram_unlink_chat)(chat_id=message.chat.id)
        await message.answer(
            _(
                "This chat is unlinked: you will get no more messages here. "
                "To link it again, use the link on your profile."
            )
        )

    return router
