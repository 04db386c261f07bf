"""Answering a student's question from Telegram: a moderator replies (Telegram's "Reply")
to the bot's alert about the question, and the reply is posted into the question's thread
as if written on the site (source: Telegram). A reply from an unlinked chat or a student,
or to a message that is not a question's alert, is refused with a message and stores
nothing. A Telegram update that arrives twice posts once (its message id is the key)."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.types import Message
from asgiref.sync import sync_to_async
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from parta.chat.services import telegram_answer_post
from parta.common.errors import ApplicationError


def _sent_text(message) -> str:
    thread = message.thread
    url = settings.PARTA_SITE_URL.rstrip("/") + reverse("chat:thread", args=[thread.pk])
    if getattr(message, "replayed", False):
        done = _("This answer is already in the thread “%(subject)s”.")
    else:
        done = _("Sent to the thread “%(subject)s”.")
    return (
        done % {"subject": escape(thread.subject, quote=False)} + "\n" + escape(url, quote=False)
    )


def router() -> Router:
    router = Router(name="chat_reply")

    @router.message(F.reply_to_message)
    async def answer(message: Message, parta_user) -> None:
        text = message.text or message.caption or ""
        if not text.strip():
            await message.answer(
                _(
                    "Only text answers can be sent from Telegram. Attach files to your "
                    "answer on the site."
                )
            )
            return
        try:
            posted = await sync_to_async(telegram_answer_post)(
                user=parta_user,
                chat_id=message.chat.id,
                reply_to_message_id=message.reply_to_message.message_id,
                message_id=message.message_id,
                text=text,
            )
        except ApplicationError as exc:
            await message.answer(escape(exc.message, quote=False))
            return
        await message.answer(_sent_text(posted), disable_web_page_preview=True)

    return router
