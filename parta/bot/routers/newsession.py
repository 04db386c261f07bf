"""/newsession: a moderator or staff member plans a live session in a short dialogue.

course → group (or the whole course) → teacher → start (typed) → duration → link (or a new
Jitsi room) → Create, with Cancel on every step. The steps and their checks are in
``parta.bot.session_dialogue``; this router only turns updates into its calls and its
screens into messages. The session is made by the site's own service, so the invitations
go out exactly as from the site."""

from __future__ import annotations

import contextlib
from html import escape

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from asgiref.sync import sync_to_async

from parta.bot import session_dialogue as dialogue
from parta.common.errors import ApplicationError


def _keyboard(screen: dialogue.Screen) -> InlineKeyboardMarkup | None:
    if not screen.buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=data) for label, data in row]
            for row in screen.buttons
        ]
    )


async def _send(message: Message, screen: dialogue.Screen, parta_user) -> None:
    sent = await message.answer(
        screen.text, reply_markup=_keyboard(screen), disable_web_page_preview=True
    )
    if screen.expects_text:
        await sync_to_async(dialogue.dialogue_prompt_sent)(
            user=parta_user, dialogue_id=screen.dialogue_id, message_id=sent.message_id
        )


async def _expects_text(message: Message, parta_user) -> bool:
    """A typed answer to an open dialogue (not a command, not a reply to another message)."""
    text = message.text or ""
    if not text or text.startswith("/") or not dialogue.may_plan(parta_user):
        return False
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    return await sync_to_async(dialogue.dialogue_expects_text)(user=parta_user, reply_to=reply_to)


def router() -> Router:
    router = Router(name="newsession")

    @router.message(Command("newsession"))
    async def start(message: Message, parta_user) -> None:
        if not dialogue.may_plan(parta_user):
            await message.answer(dialogue.not_allowed_text(parta_user))
            return
        try:
            screen = await sync_to_async(dialogue.dialogue_start)(user=parta_user)
        except ApplicationError as exc:
            await message.answer(escape(exc.message, quote=False))
            return
        await _send(message, screen, parta_user)

    @router.callback_query(F.data.startswith(f"{dialogue.CALLBACK_PREFIX}:"))
    async def press(query: CallbackQuery, parta_user) -> None:
        if not dialogue.may_plan(parta_user):
            await query.answer(dialogue.not_allowed_text(parta_user), show_alert=True)
            return
        try:
            screen = await sync_to_async(dialogue.dialogue_press)(
                user=parta_user, data=query.data or ""
            )
        except ApplicationError as exc:
            await query.answer(exc.message, show_alert=True)
            return
        await query.answer()
        if query.message is not None:
            # The step is answered: its buttons go, the next step comes as a new message.
            with contextlib.suppress(TelegramBadRequest):
                await query.message.edit_reply_markup(reply_markup=None)
            await _send(query.message, screen, parta_user)

    @router.message(F.text, _expects_text)
    async def answer(message: Message, parta_user) -> None:
        try:
            screen = await sync_to_async(dialogue.dialogue_answer)(
                user=parta_user, text=message.text or ""
            )
        except ApplicationError as exc:
            await message.answer(escape(exc.message, quote=False))
            return
        await _send(message, screen, parta_user)

    return router
