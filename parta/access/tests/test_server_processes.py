"""The access check served by other processes (gunicorn, two sync workers) sees every
grant change (and a deactivated token user) at once, although each worker keeps answers
in its own memory: the change announces itself, and each worker forgets the user before
its next request. Runs in CI
(PostgreSQL + Redis); skipped on SQLite or without REDIS_URL."""

import json
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from parta.access.models import GrantSource
from parta.access.services import access_freeze_start, access_grant_create, access_grant_deactivate
from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.processes import wsgi_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis; set REDIS_URL"),
    pytest.mark.django_db(transaction=True),
]

# Enough requests that both workers answer some of them (and so cache the answer).
ROUNDS = 24


def ask(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def answers(url: str, token: str) -> list[dict]:
    return [ask(url, token) for _ in range(ROUNDS)]


def test_every_worker_sees_each_grant_change_on_the_next_request():
    student, course = UserFactory(), CourseFactory()
    token = Token.objects.create(user=student).key
    with wsgi_server(workers=2) as base:
        url = f"{base}/api/v1/access/check/{course.id}/{student.id}/"
        assert answers(url, token) == [{"allowed": False, "until": None}] * ROUNDS

        end = timezone.now() + timedelta(days=30)
        grant = access_grant_create(
            user=student,
            course=course,
            source=GrantSource.MANUAL,
            available_until=end,
            freeze_limit_days=10,
        )
        assert answers(url, token) == [{"allowed": True, "until": end.isoformat()}] * ROUNDS

        access_freeze_start(grant=grant, days=3)
        assert answers(url, token) == [{"allowed": False, "until": None}] * ROUNDS

        grant.refresh_from_db()
        access_grant_deactivate(grant=grant)
        assert answers(url, token) == [{"allowed": False, "until": None}] * ROUNDS

        # The token's user is cached in each worker too; deactivating them is seen at once.
        student.is_active = False
        student.save()
        for _ in range(ROUNDS):
            with pytest.raises(urllib.error.HTTPError) as error:
                ask(url, token)
            assert error.value.code == 401


def test_errors_keep_the_api_shape_on_the_fast_path():
    student, other = UserFactory(), UserFactory()
    course = CourseFactory()
    token = Token.objects.create(user=student).key
    with wsgi_server(workers=1) as base:
        for path, status in [
            (f"/api/v1/access/check/{course.id}/{other.id}/", 403),
            (f"/api/v1/access/check/999999/{student.id}/", 404),
        ]:
            with pytest.raises(urllib.error.HTTPError) as error:
                ask(base + path, token)
            assert error.value.code == status
            body = json.loads(error.value.read())
            assert set(body) >= {"detail", "code"}
        with pytest.raises(urllib.error.HTTPError) as error:
            ask(f"{base}/api/v1/access/check/{course.id}/{student.id}/", "not-a-token")
        assert error.value.code == 401
