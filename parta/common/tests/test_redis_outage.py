"""Redis killed mid-run: a real redis-server started by the test on a free port. Pages,
the access check (with its per-process mirror and the token cache), code requests and
their rate limit, and task answers keep working from the database; /healthz tells; a
revocation made during the outage holds after Redis comes back from its snapshot."""

import logging
import time

import pytest
import redis
from django.core.cache import caches
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from parta.access import cache as access_cache
from parta.access.services import access_grant_deactivate
from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import STAFF_PASSWORD, ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory, LessonFactory, TaskFactory, TopicFactory
from parta.common import authentication
from parta.common import cache as failover
from parta.common.testing.processes import redis_server

pytestmark = pytest.mark.django_db


def _reset_mirrors():
    for mirror in (access_cache.mirror, authentication.mirror):
        mirror._drop_subscription()
        mirror._pid = None  # re-reads which cache it is on at its next use


@pytest.fixture
def redis_cache(settings, tmp_path, monkeypatch):
    """The default cache on a private Redis (failing over to the database cache)."""
    monkeypatch.setattr(failover, "RETRY_SECONDS", 0.2)
    with redis_server(tmp_path) as server:
        url = f"redis://127.0.0.1:{server.port}/0"
        settings.REDIS_URL = url
        settings.CACHES = {
            "default": {
                **settings.CACHES.get("default"),
                "BACKEND": "parta.common.cache.FailoverRedisCache",
                "LOCATION": url,
                "OPTIONS": {
                    "FALLBACK": "database",
                    "SOCKET_CONNECT_TIMEOUT": 1,
                    "SOCKET_TIMEOUT": 1,
                },
            },
            "database": {
                "BACKEND": "parta.common.cache.ReplayableDatabaseCache",
                "LOCATION": settings.CACHE_TABLE,
                "KEY_PREFIX": "parta",
            },
        }
        _reset_mirrors()
        yield server, tmp_path
        caches["default"].client.get_client().connection_pool.disconnect()
    _reset_mirrors()


def _statuses(client, api, urls):
    return [client.get(url).status_code for url in urls["pages"]] + [
        api.get(urls["check"]).status_code
    ]


def test_pages_and_apis_answer_while_redis_is_down_and_after(
    redis_cache, client, caplog, django_capture_on_commit_callbacks
):
    server, directory = redis_cache
    course = CourseFactory(slug="algebra")
    topic = TopicFactory(course=course)
    lesson = LessonFactory(topic=topic)
    task = TaskFactory(topic=topic, answer_text="42")
    student = UserFactory()
    grant = AccessGrantFactory(user=student, course=course)
    client.force_login(student)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=student).key}")
    urls = {
        "pages": [
            reverse("learning:course", args=[course.slug]),
            reverse("learning:lesson", args=[course.slug, lesson.pk]),
        ],
        "check": f"/api/v1/access/check/{course.id}/{student.id}/",
    }

    # Warm every cache on Redis: access answers (in Redis and in the mirror), the token.
    for _ in range(3):
        assert _statuses(client, api, urls) == [200, 200, 200]
        assert api.get(urls["check"]).json()["allowed"] is True
    assert redis.Redis(port=server.port).dbsize() > 0
    redis.Redis(port=server.port).save()  # the snapshot it will come back from
    server.kill()
    server.wait()

    caplog.set_level(logging.WARNING)
    for _ in range(3):
        assert _statuses(client, api, urls) == [200, 200, 200]
        assert api.get(urls["check"]).json()["allowed"] is True
    answer = api.post(reverse("api:task-answer", args=[task.id]), {"answer": "42"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["correct"] is True

    health = client.get(reverse("healthz"))
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "database": True, "redis": False}

    # Rate limits fall back too: the 4th code for one email in a minute is refused.
    UserFactory(email="codes@example.com")
    sent = [
        type(client)().post(reverse("account_request_login_code"), {"email": "codes@example.com"})
        for _ in range(4)
    ]
    assert [r.status_code for r in sent] == [302, 302, 302, 200]
    assert (
        "Код запрашивали слишком часто" in sent[3].content.decode()
    )  # the limit, from the database

    # Password sign-in (and its failure counter) works too.
    ModeratorFactory(email="teacher@example.com")
    signin = type(client)()
    wrong = signin.post(
        reverse("account_login"), {"login": "teacher@example.com", "password": "wrong-one"}
    )
    assert wrong.status_code == 200
    right = signin.post(
        reverse("account_login"), {"login": "teacher@example.com", "password": STAFF_PASSWORD}
    )
    assert right.status_code == 302

    # A revocation during the outage is served at once.
    with django_capture_on_commit_callbacks(execute=True):
        access_grant_deactivate(grant=grant)
    assert api.get(urls["check"]).json()["allowed"] is False
    assert client.get(urls["pages"][1]).status_code == 403

    outage_warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage_warnings) == 1
    assert all(r.levelno < logging.ERROR for r in caplog.records)

    # Redis comes back from its snapshot, where the student was still allowed.
    with redis_server(directory, port=server.port):
        time.sleep(0.3)  # past RETRY_SECONDS
        assert client.get(reverse("healthz")).json()["redis"] is True
        for _ in range(3):
            assert api.get(urls["check"]).json()["allowed"] is False
            assert client.get(urls["pages"][1]).status_code == 403
        assert caches["default"].redis_available
        caches["default"].client.get_client().connection_pool.disconnect()
