"""What the bot and the profile change: linking a Telegram chat to a Parta account and back.

Bot handlers call these through ``sync_to_async``; they hold every database access the bot
needs (handlers stay free of the ORM)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from parta.bot.models import LinkToken
from parta.catalog.workspace import can_use_workspace
from parta.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from parta.news.models import TITLE_MAX_LENGTH, Audience, Post, PostStatus
from parta.news.selectors import audience_students
from parta.news.services import post_create, post_publish
from parta.notifications.telegram_api import telegram_bot_username, telegram_enabled

User = get_user_model()

LINK_TOKEN_LIFETIME = timedelta(minutes=15)
# Telegram's rule for a deep link's start parameter.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LinkOffer:
    token: str
    link: str
    expires_at: datetime


def link_offer(*, user) -> LinkOffer:
    """A one-time deep link for ``user`` (``Conflict`` when the bot is off, unreachable,
    or their account is already linked)."""
    if not telegram_enabled():
        raise Conflict(_("The Telegram bot is off on this site."))
    if user.telegram_linked:
        raise Conflict(
            _("Your account is already linked to Telegram. Unlink it first to link another chat.")
        )
    username = telegram_bot_username()
    if not username:
        raise Conflict(_("The Telegram bot does not answer right now. Try later."))
    token, expires_at = _token_issue(user)
    return LinkOffer(
        token=token, link=f"https://t.me/{username}?start={token}", expires_at=expires_at
    )


def link_token_create(*, user) -> str:
    """A new one-time token for ``user``'s deep link (43 characters of [A-Za-z0-9_-]).
    Their earlier unused tokens stop working: only the link on screen does."""
    return _token_issue(user)[0]


@transaction.atomic
def _token_issue(user) -> tuple[str, datetime]:
    LinkToken.objects.filter(user=user, used_at__isnull=True).delete()
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + LINK_TOKEN_LIFETIME
    LinkToken.objects.create(user=user, digest=_digest(token), expires_at=expires_at)
    return token, expires_at


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


# --- /broadcast: a news post written in the chat -----------------------------------------


def can_broadcast(user) -> bool:
    """Moderators and school staff (who write news in the workspace) may broadcast."""
    return user is not None and user.is_active and can_use_workspace(user)


def _split_broadcast(text: str) -> tuple[str, str]:
    """A title and a body from the chat's text: the first line is the title when there are
    more; a single line is both (shortened for the title)."""
    text = (text or "").strip()
    first, _newline, rest = text.partition("\n")
    first = first.strip()
    if rest.strip():
        return Truncator(first).chars(TITLE_MAX_LENGTH), rest.strip()
    return Truncator(first).words(12, truncate="…")[:TITLE_MAX_LENGTH], text


def broadcast_draft(*, user, text: str):
    """A draft post for students with active access, from ``/broadcast <text>``; the post.
    Refused (``PermissionDenied``) for anyone who may not write news, and
    (``ValidationFailed``) for an empty or overlong text."""
    if not can_broadcast(user):
        raise PermissionDenied(_("Only the school's moderators and staff can send news."))
    if not (text or "").strip():
        raise ValidationFailed(
            {"body": [_("Write the text after the command: /broadcast Lessons resume Monday.")]}
        )
    title, body = _split_broadcast(text)
    return post_create(author=user, title=title, body=body, audience=Audience.ACTIVE)


def _own_draft(*, user, post_id: int):
    if not can_broadcast(user):
        raise PermissionDenied(_("Only the school's moderators and staff can send news."))
    post = Post.objects.select_for_update().filter(pk=post_id, author=user).first()
    if post is None:
        raise NotFound(_("This draft no longer exists."))
    if post.status != PostStatus.DRAFT:
        raise Conflict(_("This post has already been sent."))
    return post


@transaction.atomic
def broadcast_confirm(*, user, post_id: int):
    """Publish the author's draft now; the post and how many students it goes to."""
    post = post_publish(post=_own_draft(user=user, post_id=post_id))
    return post, audience_students(post=post).count()


@transaction.atomic
def broadcast_discard(*, user, post_id: int) -> None:
    """Delete the author's unsent draft (Cancel under the preview)."""
    _own_draft(user=user, post_id=post_id).delete()
