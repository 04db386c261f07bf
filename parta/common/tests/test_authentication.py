import pytest
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authtoken.models import Token

from parta.accounts.tests.factories import UserFactory
from parta.common import authentication
from parta.common.authentication import CachedTokenAuthentication, token_cache_key

pytestmark = pytest.mark.django_db


def test_token_user_is_cached_after_the_first_lookup(django_assert_num_queries):
    user = UserFactory()
    token = Token.objects.create(user=user)
    auth = CachedTokenAuthentication()
    assert auth.authenticate_credentials(token.key)[0] == user
    with django_assert_num_queries(0):
        assert auth.authenticate_credentials(token.key)[0] == user
    assert cache.get(token_cache_key(token.key)) == user


def test_unknown_token_is_refused():
    with pytest.raises(exceptions.AuthenticationFailed):
        CachedTokenAuthentication().authenticate_credentials("nope")


def test_revoked_token_stops_working_once_the_caches_expire():
    token = Token.objects.create(user=UserFactory())
    auth = CachedTokenAuthentication()
    auth.authenticate_credentials(token.key)
    token.delete()
    # Within the cache lifetime the answer may still come from memory (documented).
    cache.delete(token_cache_key(token.key))
    authentication._local.clear()
    with pytest.raises(exceptions.AuthenticationFailed):
        auth.authenticate_credentials(token.key)


def test_inactive_user_is_refused():
    user = UserFactory(is_active=False)
    token = Token.objects.create(user=user)
    with pytest.raises(exceptions.AuthenticationFailed):
        CachedTokenAuthentication().authenticate_credentials(token.key)
