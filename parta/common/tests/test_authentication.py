import pytest
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authtoken.models import Token

from parta.accounts.tests.factories import UserFactory
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


def test_a_deleted_token_stops_working_at_once(django_capture_on_commit_callbacks):
    key = Token.objects.create(user=UserFactory()).key
    auth = CachedTokenAuthentication()
    auth.authenticate_credentials(key)
    auth.authenticate_credentials(key)  # now held in every cache layer
    with django_capture_on_commit_callbacks(execute=True):
        Token.objects.get(key=key).delete()  # (delete() then clears the instance's key)
    with pytest.raises(exceptions.AuthenticationFailed):
        auth.authenticate_credentials(key)


def test_a_deactivated_user_is_refused_at_once(django_capture_on_commit_callbacks):
    user = UserFactory()
    token = Token.objects.create(user=user)
    auth = CachedTokenAuthentication()
    auth.authenticate_credentials(token.key)
    auth.authenticate_credentials(token.key)
    user.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        user.save()
    with pytest.raises(exceptions.AuthenticationFailed):
        auth.authenticate_credentials(token.key)


def test_a_new_role_is_seen_at_once(django_capture_on_commit_callbacks):
    user = UserFactory(role="moderator")
    token = Token.objects.create(user=user)
    auth = CachedTokenAuthentication()
    auth.authenticate_credentials(token.key)
    auth.authenticate_credentials(token.key)
    user.role = "student"
    with django_capture_on_commit_callbacks(execute=True):
        user.save(update_fields=["role"])
    assert auth.authenticate_credentials(token.key)[0].role == "student"


def test_a_login_leaves_the_cached_user_alone(django_assert_num_queries):
    user = UserFactory()
    Token.objects.create(user=user)
    with django_assert_num_queries(1):  # the UPDATE only: no token lookup
        user.save(update_fields=["last_login"])


def test_inactive_user_is_refused():
    user = UserFactory(is_active=False)
    token = Token.objects.create(user=user)
    with pytest.raises(exceptions.AuthenticationFailed):
        CachedTokenAuthentication().authenticate_credentials(token.key)
