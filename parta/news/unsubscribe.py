"""One-click unsubscribe from news emails (RFC 8058), without signing in.

Every news email carries ``List-Unsubscribe: <https://…/news/unsubscribe/<token>/>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``. The token is signed with the
SECRET_KEY and names the person, the kind and the channel; it does not expire (an old
email must still unsubscribe). A POST to the link turns that kind off on that channel
(what mail clients send); a GET shows a page with a button that does the same POST.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from parta.accounts.models import User
from parta.common.errors import NotFound
from parta.notifications.channels.base import Channel
from parta.notifications.kinds import get_kind
from parta.notifications.preferences import preference_set

SALT = "parta.news.unsubscribe"


class UnsubscribeLinkInvalid(NotFound):
    code = "unsubscribe_link_invalid"


@dataclass(frozen=True)
class Unsubscribe:
    user: User
    kind: str
    channel: str


def unsubscribe_token(*, user: User, kind: str, channel: str = Channel.EMAIL) -> str:
    return signing.dumps({"u": user.pk, "k": kind, "c": str(channel)}, salt=SALT, compress=True)


def unsubscribe_url(*, user: User, kind: str, channel: str = Channel.EMAIL) -> str:
    token = unsubscribe_token(user=user, kind=kind, channel=channel)
    path = reverse("news:unsubscribe", args=[token])
    return settings.PARTA_SITE_URL.rstrip("/") + path


def unsubscribe_headers(*, user: User, kind: str) -> dict[str, str]:
    """``List-Unsubscribe`` and ``List-Unsubscribe-Post`` for one person's email."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user=user, kind=kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def news_email_headers(*, user: User, context: dict) -> dict[str, str]:
    """The news kind's headers, made when each email is sent (see Kind.email_headers)."""
    return unsubscribe_headers(user=user, kind="news")


def unsubscribe_read(*, token: str) -> Unsubscribe:
    """What a token unsubscribes from; UnsubscribeLinkInvalid for one we did not sign."""
    invalid = UnsubscribeLinkInvalid(_("This unsubscribe link is not valid."))
    try:
        data = signing.loads(token, salt=SALT)
        user_id, kind, channel = data["u"], data["k"], data["c"]
        mandatory = get_kind(kind).mandatory
    except (signing.BadSignature, KeyError, TypeError, ValueError, LookupError):
        raise invalid from None
    if mandatory or not isinstance(user_id, int) or channel not in Channel.values:
        raise invalid
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise invalid
    return Unsubscribe(user=user, kind=kind, channel=channel)


@transaction.atomic
def unsubscribe_apply(*, token: str) -> Unsubscribe:
    """Turn the token's kind off on its channel for its person (idempotent)."""
    target = unsubscribe_read(token=token)
    preference_set(user=target.user, kind=target.kind, channel=target.channel, enabled=False)
    return target
