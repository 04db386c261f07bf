"""One-time keys for the client card's action forms, so a double click or a resent form
does its action once.

A page's form carries a key signed for (person, action, client) with a random nonce; the
action spends the nonce (an atomic cache ``add``) just before the service runs. A key
that is not ours, or was made for another person, action or client, is refused as
forged (403); a spent one is refused as sent already. When the service refuses the
input the nonce is given back, so the corrected form can be sent with the same key.
API calls send their own key (a UUID), spent the same way per person."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from django.core import signing
from django.core.cache import cache
from django.utils.translation import gettext as _

from parta.common.errors import Conflict, PermissionDenied

SALT = "parta.crm.form-key"
# A form left open longer than this must be reloaded.
MAX_AGE_SECONDS = 24 * 3600


class KeySpent(Conflict):
    code = "already_sent"


def form_key_issue(*, user, action: str, client_id: int) -> str:
    return signing.dumps(
        {"u": user.pk, "a": action, "c": client_id, "n": secrets.token_urlsafe(12)}, salt=SALT
    )


def _nonce(key: str, *, user, action: str, client_id: int) -> str:
    try:
        data = signing.loads(key or "", salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise PermissionDenied(_("This form is too old: reload the page.")) from exc
    except signing.BadSignature as exc:
        raise PermissionDenied(_("This form was not made by this page: reload it.")) from exc
    if not isinstance(data, dict) or (data.get("u"), data.get("a"), data.get("c")) != (
        user.pk,
        action,
        client_id,
    ):
        raise PermissionDenied(_("This form was not made by this page: reload it."))
    return str(data.get("n", ""))


def form_key_check(key: str, *, user, action: str, client_id: int) -> None:
    """Refuse a forged key (the confirmation step, before anything is spent)."""
    _nonce(key, user=user, action=action, client_id=client_id)


@contextmanager
def _spend(cache_key: str) -> Iterator[None]:
    if not cache.add(cache_key, 1, timeout=MAX_AGE_SECONDS):
        raise KeySpent(_("This form has already been sent: nothing was done again."))
    try:
        yield
    except Exception:
        cache.delete(cache_key)
        raise


@contextmanager
def form_key_spend(key: str, *, user, action: str, client_id: int) -> Iterator[None]:
    """Run the block once per key: a second use raises KeySpent before the block runs."""
    nonce = _nonce(key, user=user, action=action, client_id=client_id)
    with _spend(f"crm:form-key:{nonce}"):
        yield


@contextmanager
def api_key_spend(key: str, *, user) -> Iterator[None]:
    with _spend(f"crm:api-key:{user.pk}:{key}"):
        yield
