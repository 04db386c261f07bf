"""Token authentication for hot read-only endpoints, with the token's user cached.

The user behind a token is kept in the shared cache for PARTA_TOKEN_CACHE_SECONDS
(60 s by default) and, with Redis, in each process's memory (parta.common.localcache).
Deleting a token or saving its user (deactivation, a new role) drops both at once, on
commit. What is left is a rare race: a request that read the user from the database just
before such a change may cache the old user, for at most PARTA_TOKEN_CACHE_SECONDS.
Changes that bypass model signals (``QuerySet.update``) are also noticed only then.
Use it only where that is acceptable (read-only answers such as the access check),
never on endpoints that change data.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from parta.common.localcache import LocalMirror
from parta.common.models import user_save_invalidates

# Groups are token keys; the one key in each group is "user".
mirror = LocalMirror("tokens")


def token_cache_key(key: str) -> str:
    return f"authtoken:v1:{key}"


def forget_tokens(keys: list[str]) -> None:
    """Drop the cached users of these tokens, here and in every process."""
    cache.delete_many([token_cache_key(key) for key in keys])
    for key in keys:
        mirror.announce(key)


@receiver(post_delete, sender=Token, dispatch_uid="parta-token-deleted")
def _token_deleted(sender, instance, **kwargs):
    key = instance.key
    transaction.on_commit(lambda: forget_tokens([key]))


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="parta-token-user-saved")
def _token_user_saved(sender, instance, created, update_fields=None, **kwargs):
    if not user_save_invalidates(created=created, update_fields=update_fields):
        return
    keys = list(Token.objects.filter(user_id=instance.pk).values_list("key", flat=True))
    if keys:
        transaction.on_commit(lambda: forget_tokens(keys))


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
        user, token = mirror.get(key, "user")
        if user is None:
            cache_key = token_cache_key(key)
            user = cache.get(cache_key)
            if user is None:
                found = self.get_model().objects.select_related("user").filter(key=key).first()
                if found is None:
                    raise exceptions.AuthenticationFailed(_("Invalid token."))
                user = found.user
                cache.set(cache_key, user, getattr(settings, "PARTA_TOKEN_CACHE_SECONDS", 60))
            mirror.put(key, "user", user, token)
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
            "description": 'The same API token: "Token <key>". The token\'s user may be '
            "cached for up to a minute on this endpoint.",
        }
