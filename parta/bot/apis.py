"""Telegram in the REST API under /api/v1/telegram/: whether the bot is on and the account
linked, a one-time link to connect a chat (as the profile's "Connect Telegram"), and unlink."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.bot import services
from parta.notifications.telegram_api import telegram_enabled


class TelegramStatusOut(serializers.Serializer):
    bot_on = serializers.BooleanField(help_text="False when the site has no bot token.")
    linked = serializers.BooleanField()
    blocked = serializers.BooleanField(
        help_text="Linked, but the person blocked the bot: messages go by email instead."
    )


def _status(user) -> dict:
    return {
        "bot_on": telegram_enabled(),
        "linked": user.telegram_linked,
        "blocked": user.telegram_blocked_at is not None,
    }


class TelegramStatusApi(APIView):
    @extend_schema(responses=TelegramStatusOut, operation_id="telegram_status")
    def get(self, request):
        return Response(TelegramStatusOut(_status(request.user)).data)


class TelegramLinkTokenApi(APIView):
    class LinkOut(serializers.Serializer):
        token = serializers.CharField(help_text="Single use; at most 64 of [A-Za-z0-9_-].")
        link = serializers.CharField(help_text="https://t.me/<bot>?start=<token>: open it.")
        expires_at = serializers.DateTimeField(help_text="15 minutes from now.")

    @extend_schema(
        request=None,
        responses={201: LinkOut},
        operation_id="telegram_link_token_create",
        description="A one-time deep link that links the Telegram chat opening it to your "
        "account. A new link makes your earlier unused ones stop working. 409 when the bot "
        "is off or does not answer, or your account is already linked.",
    )
    def post(self, request):
        offer = services.link_offer(user=request.user)
        data = {"token": offer.token, "link": offer.link, "expires_at": offer.expires_at}
        return Response(self.LinkOut(data).data, status=status.HTTP_201_CREATED)


class TelegramUnlinkApi(APIView):
    @extend_schema(
        request=None,
        responses=TelegramStatusOut,
        operation_id="telegram_unlink",
        description="Forget your Telegram chat (nothing happens when none is linked).",
    )
    def post(self, request):
        services.telegram_unlink(user=request.user)
        return Response(TelegramStatusOut(_status(request.user)).data)
