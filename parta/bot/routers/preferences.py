"""/settings: which notifications reach the person, per channel, switched with inline buttons.

The message shows one channel at a time (Telegram first) with a button per kind; the bottom
row switches the channel. A button carries the state it sets (``pref:set:<channel>:<kind>:1``),
so a double tap or an old message sets the same thing twice and never flips it back."""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _

from parta.bot.routers.stats import not_linked_text
from parta.bot.texts import preferences_keyboard, preferences_text
from parta.common.errors import ApplicationError
from parta.notifications.channels.base import Channel
from parta.notifications.preferences import preference_set, preferences_for


async def _screen(user, channel: str):
    rows = await sync_to_async(preferences_for)(user=user)
    return preferences_text(channel=channel), preferences_keyboard(rows=rows, channel=channel)


def router() -> Router:
    router = Router(name="preferences")

    @router.message(Command("settings"))
    async def settings_command(message: Message, parta_user) -> None:
        if parta_user is None:
            await message.answer(not_linked_text())
            return
        text, keyboard = await _screen(parta_user, Channel.TELEGRAM)
        await message.answer(text, reply_markup=keyboard)

    @router.callback_query(F.data.startswith("pref:"))
    async def button(query: CallbackQuery, parta_user) -> None:
        if parta_user is None:
            await query.answer(not_linked_text(), show_alert=True)
            return
        parts = (query.data or "").split(":")
        notice = ""
        if len(parts) == 3 and parts[1] == "show" and parts[2] in Channel.values:
            channel = parts[2]
        elif len(parts) == 4 and parts[1] == "locked":
            channel = parts[2]
            notice = _("This one is always sent: it cannot be switched off.")
        elif len(parts) == 5 and parts[1] == "set" and parts[4] in ("0", "1"):
            channel, kind, enabled = parts[2], parts[3], parts[4] == "1"
            try:
                await sync_to_async(preference_set)(
                    user=parta_user, kind=kind, channel=channel, enabled=enabled
                )
            except ApplicationError as exc:
                await query.answer(exc.message, show_alert=True)
                return
            notice = _("Saved: on.") if enabled else _("Saved: off.")
        else:
            await query.answer(_("This button no longer works."))
            return
        if channel not in Channel.values:
            await query.answer(_("This button no longer works."))
            return
        text, keyboard = await _screen(parta_user, channel)
        if query.message is not None:
            # "message is not modified": the screen already shows this.
            with contextlib.suppress(TelegramBadRequest):
                await query.message.edit_text(text, reply_markup=keyboard)
        await query.answer(notice)

    return router
