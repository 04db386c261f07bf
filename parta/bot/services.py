"""What the bot and the profile change: linking a Telegram chat to a Parta account and back.

Bot handlers call these through ``sync_to_async``; they hold every database access the bot
needs (handlers stay free of the ORM)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.bot.models import LinkToken
from parta.common.errors import Conflict, NotFound

User = get_user_model()

LINK_TOKEN_LIFETIME = timedelta(minutes=15)
# Telegram's rule for a deep link's start parameter.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def link_token_create(*, user) -> str:
    """A new one-time token for ``user``'s deep link (43 characters of [A-Za-z0-9_-]).
    Their earlier unused tokens stop working: only the link on screen does."""
    LinkToken.objects.filter(user=user, used_at__isnull=True).delete()
    token = secrets.token_urlsafe(32)
    LinkToken.objects.create(
        user=user, digest=_digest(token), expires_at=timezone.now() + LINK_TOKEN_LIFETIME
    )
    return token


@transaction.atomic
def telegram_link(*, token: str, chat_id: int):
    """Link ``chat_id`` to the account whose profile showed ``token``; the user."""
    not_valid = NotFound(
        _("This link is not valid. Open your profile on the site and use the link shown there.")
    )
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise not_valid
    row = LinkToken.objects.select_for_update().filter(digest=_digest(token)).first()
    if row is None:
        raise not_valid
    user = User.objects.select_for_update().get(pk=row.user_id)
    now = timezone.now()
    if row.used_at is not None:
        if row.used_by_chat_id == chat_id and user.telegram_chat_id == chat_id:
            return user  # Start tapped twice: already done
        raise Conflict(
            _("This link has already been used. Open your profile on the site for a new one.")
        )
    if row.expires_at <= now:
        raise Conflict(
            _(
                "This link has expired: links work for 15 minutes. "
                "Open your profile on the site for a new one."
            )
        )
    if User.objects.filter(telegram_chat_id=chat_id).exclude(pk=user.pk).exists():
        raise Conflict(_chat_taken())
    if user.telegram_chat_id is not None and user.telegram_chat_id != chat_id:
        raise Conflict(
            _(
                "Your Parta account is already linked to another Telegram account. "
                "Unlink it on your profile first, then use a new link."
            )
        )
    user.telegram_chat_id = chat_id
    user.telegram_blocked_at = None
    try:
        with transaction.atomic():
            user.save(update_fields=["telegram_chat_id", "telegram_blocked_at"])
    except IntegrityError:
        # Another account took this chat a moment ago.
        raise Conflict(_chat_taken()) from None
    row.used_at = now
    row.used_by_chat_id = chat_id
    row.save(update_fields=["used_at", "used_by_chat_id"])
    return user


def _chat_taken() -> str:
    return _(
        "This Telegram account is already linked to another Parta account. "
        "Send /unlink here first, then use the link again."
    )


@transaction.atomic
def telegram_unlink(*, user) -> bool:
    """Forget ``user``'s chat; False when nothing was linked."""
    changed = User.objects.filter(pk=user.pk, telegram_chat_id__isnull=False).update(
        telegram_chat_id=None, telegram_blocked_at=None
    )
    user.telegram_chat_id = None
    user.telegram_blocked_at = None
    return bool(changed)


@transaction.atomic
def telegram_unlink_chat(*, chat_id: int):
    """Forget whichever account ``chat_id`` is linked to; that user, or None."""
    user = User.objects.select_for_update().filter(telegram_chat_id=chat_id).first()
    if user is not None:
        telegram_unlink(user=user)
    return user


def chat_user_seen(*, chat_id: int):
    """The account linked to ``chat_id`` (or None). Someone who blocked the bot and writes
    again has unblocked it: Telegram goes to them again."""
    user = User.objects.filter(telegram_chat_id=chat_id).first()
    if user is not None and user.telegram_blocked_at is not None:
        User.objects.filter(pk=user.pk).update(telegram_blocked_at=None)
        user.telegram_blocked_at = None
    return user
