"""The Telegram channel: a stored message rendered in its person's language, sent by the bot."""

from __future__ import annotations

import html

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from parta.notifications.channels.base import Channel, SkipDelivery
from parta.notifications.kinds import get_kind
from parta.notifications.rendering import render_message
from parta.notifications.telegram_api import (
    BotBlocked,
    telegram_close,
    telegram_enabled,
    telegram_send,
)


def telegram_text(*, subject: str, text: str) -> str:
    """The subject in bold on top, then the body; both are plain text, escaped for HTML."""
    body = html.escape(text, quote=False)
    if not subject:
        return body
    return f"<b>{html.escape(subject, quote=False)}</b>\n\n{body}"


def telegram_markup(*, user, kind: str, context: dict):
    """The kind's inline buttons for this person (see Kind.telegram_buttons), or None."""
    described = get_kind(kind)
    if described.telegram_buttons is None:
        return None
    with translation.override(user.message_language):
        rows = described.telegram_buttons(user=user, context=context)
        keyboard = [
            [InlineKeyboardButton(text=str(text), callback_data=data) for text, data in row]
            for row in rows
        ]
    return InlineKeyboardMarkup(inline_keyboard=keyboard) if keyboard else None


class TelegramSender:
    channel = Channel.TELEGRAM

    def send(self, message) -> str:
        if not telegram_enabled():
            raise SkipDelivery("bot not configured")
        user = message.user
        if user.telegram_chat_id is None:
            raise SkipDelivery("not linked")
        if user.telegram_blocked_at is not None:
            raise SkipDelivery("blocked")
        rendered = render_message(user=user, kind=message.kind, context=message.context)
        markup = telegram_markup(user=user, kind=message.kind, context=message.context or {})
        users = get_user_model().objects

        def follow(new_chat_id: int) -> None:
            users.filter(pk=user.pk).update(telegram_chat_id=new_chat_id)
            user.telegram_chat_id = new_chat_id

        try:
            message_id = telegram_send(
                chat_id=user.telegram_chat_id,
                text=telegram_text(subject=rendered.subject, text=rendered.text),
                reply_markup=markup,
                on_migrate=follow,
            )
        except BotBlocked:
            now = timezone.now()
            users.filter(pk=user.pk).update(telegram_blocked_at=now)
            user.telegram_blocked_at = now
            raise SkipDelivery("blocked") from None
        return str(message_id)

    def close(self) -> None:
        """The worker's run is over: close this thread's Bot session and loop."""
        telegram_close()
