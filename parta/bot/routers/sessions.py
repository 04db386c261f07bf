"""Accept / Decline under a live session's invitation. The button's data carries only the
invitation's id (``inv:<accepted|declined>:<id>``); the answer is recorded only when the
chat's person owns that invitation, so a forged or another person's id changes nothing."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _

from parta.bot.routers.stats import not_linked_text
from parta.common.errors import ApplicationError
from parta.groups.models import Response
from parta.groups.sessions import CALLBACK_PREFIX, invitation_respond


def router() -> Router:
    router = Router(name="sessions")

    @router.callback_query(F.data.startswith(f"{CALLBACK_PREFIX}:"))
    async def answer(query: CallbackQuery, parta_user) -> None:
        if parta_user is None:
            await query.answer(not_linked_text(), show_alert=True)
            return
        parts = (query.data or "").split(":")
        if (
            len(parts) != 3
            or parts[1] not in (Response.ACCEPTED, Response.DECLINED)
            or not parts[2].isdigit()
        ):
            await query.answer(_("This button no longer works."))
            return
        try:
            answered = await sync_to_async(invitation_respond)(
                user=parta_user, invitation_id=int(parts[2]), response=parts[1]
            )
        except ApplicationError as exc:
            await query.answer(exc.message, show_alert=True)
            return
        await query.answer(answered.message())

    return router
