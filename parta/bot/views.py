"""The bot on the site: Telegram's webhook, and the profile's "Connect Telegram" block."""

from __future__ import annotations

import hmac
import json
import logging

import segno
from aiogram.types import Update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from parta.bot import services
from parta.bot.dispatcher import webhook_dispatcher
from parta.common.errors import ApplicationError
from parta.notifications.telegram_api import run_with_bot, telegram_enabled

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@csrf_exempt
@require_POST
def webhook(request):
    """Telegram posts one update; 403 unless it carries our secret. A plain view: the update
    runs on this thread's Telegram loop (as the outbox's sends do), under WSGI or ASGI alike."""
    if not (settings.TELEGRAM_BOT_TOKEN and settings.TELEGRAM_WEBHOOK_URL):
        raise Http404
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get(SECRET_HEADER, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return HttpResponseForbidden("wrong secret")
    try:
        payload = json.loads(request.body)
        update = Update.model_validate(payload)
    except ValueError:
        return HttpResponseBadRequest("not an update")
    try:
        run_with_bot(lambda bot: webhook_dispatcher().feed_update(bot, update))
    except Exception:
        # Answer 200 anyway: Telegram would only send the same update again.
        logger.exception("webhook update %s failed", update.update_id)
    return HttpResponse("ok")


def _qr(link: str) -> dict:
    if not link:
        return {"qr_uri": "", "qr_size": 0}
    code = segno.make(link, error="m")
    scale, border = 4, 2
    return {
        "qr_uri": code.svg_data_uri(scale=scale, border=border),
        "qr_size": code.symbol_size(scale=scale, border=border)[0],
    }


def _block(request, *, link: str = "", error: str = ""):
    user = request.user
    context = {
        "bot_on": telegram_enabled(),
        "linked": user.telegram_linked,
        "blocked": user.telegram_blocked_at is not None,
        "link": link,
        "error": error,
        # A data: image, not inline SVG markup: the CSP allows data: images only.
        **_qr(link),
    }
    template = "bot/_connect.html" if request.htmx else "bot/connect.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def connect(request):
    """GET: the block as it stands. POST: a fresh one-time link and its QR code."""
    if request.method == "POST" and telegram_enabled() and not request.user.telegram_linked:
        try:
            offer = services.link_offer(user=request.user)
        except ApplicationError as exc:
            return _block(request, error=exc.message)
        return _block(request, link=offer.link)
    return _block(request)


@login_required
@require_POST
def unlink(request):
    services.telegram_unlink(user=request.user)
    if request.htmx:
        return _block(request)
    messages.success(request, _("Telegram is unlinked."))
    return redirect("accounts:profile")
