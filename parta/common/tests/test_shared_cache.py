"""Several server processes and no REDIS_URL (what .env.example ships): the default cache
is the database, so every worker sees a revoked grant at once and rate limits count
across workers. Two gunicorn workers on the test database (PostgreSQL)."""

import re

import pytest
import requests
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from parta.access.services import access_grant_deactivate
from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import CourseFactory, LessonFactory, TopicFactory
from parta.common.testing.processes import wsgi_server

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NO_REDIS = {"REDIS_URL": "", "PARTA_CACHE": ""}


def _request_code(base: str, email: str) -> int:
    with requests.Session() as browser:
        form = browser.get(base + reverse("account_request_login_code"), timeout=5)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        sent = browser.post(
            form.url,
            data={"email": email, "csrfmiddlewaretoken": csrf},
            headers={"Referer": form.url},
            allow_redirects=False,
            timeout=5,
        )
        return sent.status_code


def test_every_worker_sees_a_revocation_and_shares_rate_limits(settings):
    # This process changes grants too, so it uses the servers' default cache.
    settings.CACHES = {
        "default": {
            "BACKEND": "parta.common.cache.ReplayableDatabaseCache",
            "LOCATION": settings.CACHE_TABLE,
            "KEY_PREFIX": "parta",
        }
    }
    course = CourseFactory(slug="algebra")
    lesson = LessonFactory(topic=TopicFactory(course=course))
    student = UserFactory(email="shared@example.com")
    grant = AccessGrantFactory(user=student, course=course)
    token = Token.objects.create(user=student).key
    browser = Client()
    browser.force_login(student)
    session = {"sessionid": browser.cookies["sessionid"].value}

    with wsgi_server(workers=2, env=NO_REDIS) as base:
        check = f"{base}/api/v1/access/check/{course.id}/{student.id}/"
        page = base + reverse("learning:lesson", args=[course.slug, lesson.pk])
        auth = {"Authorization": f"Token {token}"}
        # Both workers answer (and cache) "allowed".
        for _ in range(20):
            assert requests.get(check, headers=auth, timeout=5).json()["allowed"] is True
            assert requests.get(page, cookies=session, timeout=5).status_code == 200

        access_grant_deactivate(grant=grant)
        checks = [requests.get(check, headers=auth, timeout=5).json() for _ in range(40)]
        assert [c["allowed"] for c in checks] == [False] * 40
        pages = [requests.get(page, cookies=session, timeout=5).status_code for _ in range(20)]
        assert pages == [403] * 20

        # 3 codes a minute for one email, whichever worker takes the request.
        statuses = [_request_code(base, "shared@example.com") for _ in range(6)]
        assert statuses == [302, 302, 302, 200, 200, 200]
