"""A live setting changed in one process is what every other server process shows on its
next request: two gunicorn workers on the test database, no restart."""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse

from parta.accounts.tests.factories import StaffFactory
from parta.common.testing.processes import wsgi_server
from parta.crm.live_settings import live_settings_update

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NO_REDIS = {"REDIS_URL": "", "PARTA_CACHE": ""}


def test_every_worker_shows_the_new_school_name_at_once(settings):
    # The servers' cache (the database): this process drops the cached values there.
    settings.CACHES = {
        "default": {
            "BACKEND": "parta.common.cache.ReplayableDatabaseCache",
            "LOCATION": settings.CACHE_TABLE,
            "KEY_PREFIX": "parta",
        }
    }
    staff = StaffFactory()
    with wsgi_server(workers=2, env=NO_REDIS) as base:
        page = base + reverse("faq:support")
        # Several requests: both workers answer, and the values are cached.
        for _ in range(6):
            assert '<span class="brand-name">Parta</span>' in requests.get(page, timeout=5).text
        live_settings_update(
            actor=staff,
            values={"SCHOOL_NAME": "Школа Ромашка", "SUPPORT_EMAIL": "help@romashka.example"},
            reason="rename",
        )
        for _ in range(6):
            html = requests.get(page, timeout=5).text
            assert '<span class="brand-name">Школа Ромашка</span>' in html
            assert "mailto:help@romashka.example" in html
