"""Token authentication for hot read-only endpoints, with the token's user cached.

A revoked token or a deactivated user is noticed within PARTA_TOKEN_CACHE_SECONDS
(60 s by default) plus a few seconds of per-process memory; use it only where that
delay is acceptable (read-only answers such as the access check), never on endpoints
that change data.
"""

import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

# A few seconds in this process before asking the shared cache again: services repeat
# the same token many times a second.
LOCAL_SECONDS = 5.0
LOCAL_MAX_ENTRIES = 10_000
_local: dict[str, tuple[float, object]] = {}
_local_lock = threading.Lock()


def token_cache_key(key: str) -> str:
    return f"authtoken:v1:{key}"


def _local_get(key: str):
    entry = _local.get(key)
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[1]


def _local_put(key: str, user) -> None:
    with _local_lock:
        if len(_local) >= LOCAL_MAX_ENTRIES:
            _local.clear()
        _local[key] = (time.monotonic() + LOCAL_SECONDS, user)


class CachedTokenAuthentication(TokenAuthentication):
    def cached_user(self, request):
        """The active user of a well-formed "Token <key>" header, or None when there is
        no such header or the token is refused (the caller then leaves the request to
        the ordinary API view, which answers it with the usual 401)."""
        parts = request.META.get("HTTP_AUTHORIZATION", "").split()
        if len(parts) != 2 or parts[0].lower() != self.keyword.lower():
            return None
        try:
            return self.authenticate_credentials(parts[1])[0]
        except exceptions.AuthenticationFailed:
            return None

    def authenticate_credentials(self, key):
        user = _local_get(key)
        if user is not None:
            if not user.is_active:
                raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
            return (user, key)
        cache_key = token_cache_key(key)
        user = cache.get(cache_key)
        if user is None:
            model = self.get_model()
            token = model.objects.select_related("user").filter(key=key).first()
            if token is None:
                raise exceptions.AuthenticationFailed(_("Invalid token."))
            user = token.user
            cache.set(cache_key, user, getattr(settings, "PARTA_TOKEN_CACHE_SECONDS", 60))
        _local_put(key, user)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (user, key)


class CachedTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes CachedTokenAuthentication."""

    target_class = "parta.common.authentication.CachedTokenAuthentication"
    name = "cachedTokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'The same API token: "Token <key>". The token\'s user is cached '
            "for up to a minute on this endpoint.",
        }
