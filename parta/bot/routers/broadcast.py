"""/broadcast <text>: a moderator or staff member sends news from the chat.

The text becomes a draft post for students with active access; the chat shows a preview with
Confirm and Cancel. Confirm publishes it through news (the same outbox as the workspace);
Cancel deletes the draft. Only the draft's author can do either, once."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _

from parta.bot import services
from parta.bot.texts import broadcast_preview, broadcast_sent
from parta.common.errors import ApplicationError


def _not_allowed_text(parta_user) -> str:
    if parta_user is None:
        return _(
            "Only the school's moderators and staff can send news, from a chat linked to "
            "their account."
        )
    return _("Only the school's moderators and staff can send news.")


def router() -> Router:
    router = Router(name="broadcast")

    @router.message(Command("broadcast"))
    async def broadcast(message: Message, command: CommandObject, parta_user) -> None:
        if not services.can_broadcast(parta_user):
            await message.answer(_not_allowed_text(parta_user))
            return
        try:
            post = await sync_to_async(services.broadcast_draft)(
                user=parta_user, text=command.args or ""
            )
        except ApplicationError as exc:
            await message.answer(exc.message)
            return
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text=_("Send"), callback_data=f"bc:ok:{post.pk}"),
                    InlineKeyboardButton(text=_("Cancel"), callback_data=f"bc:no:{post.pk}"),
                ]
            ]
        )
        await message.answer(broadcast_preview(post=post), reply_markup=keyboard)

    @router.callback_query(F.data.startswith("bc:"))
    async def decide(query: CallbackQuery, parta_user) -> None:
        parts = (query.data or "").split(":")
        if (
            len(parts) != 3
            or parts[1] not in ("ok", "no")
            or not parts[2].isdigit()
            or len(parts[2]) > 18
        ):
            await query.answer(_("This button no longer works."))
            return
        if not services.can_broadcast(parta_user):
            await query.answer(_not_allowed_text(parta_user), show_alert=True)
            return
        post_id = int(parts[2])
        try:
            if parts[1] == "ok":
                post, recipients = await sync_to_async(services.broadcast_confirm)(
                    user=parta_user, post_id=post_id
                )
                outcome = broadcast_sent(post=post, recipients=recipients)
            else:
                await sync_to_async(services.broadcast_discard)(user=parta_user, post_id=post_id)
                outcome = _("Cancelled: nothing was sent.")
        except ApplicationError as exc:
            await query.answer(exc.message, show_alert=True)
            return
        if query.message is not None:
            await query.message.edit_reply_markup(reply_markup=None)
            await query.message.answer(outcome, disable_web_page_preview=True)
        await query.answer()

    return router
