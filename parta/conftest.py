"""Fixtures shared by the whole suite."""

import os
import shutil

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from parta.common.testing.telegram import telegram_peer  # noqa: F401  (the fake Bot API)

CHROMIUM = os.environ.get("PARTA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    browser_ok = _chromium_available()
    if not browser_ok and os.environ.get("PARTA_REQUIRE_BROWSER"):
        raise pytest.UsageError(f"PARTA_REQUIRE_BROWSER is set but {CHROMIUM} is missing")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL for real concurrency; set DATABASE_URL")
            )
        if "browser" in item.keywords:
            if not browser_ok:
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"Debian Chromium is not at {CHROMIUM} (apt-get install chromium)"
                    )
                )
            else:
                # Playwright's sync API keeps an event loop running in the test thread,
                # from its session fixtures on; Django's ORM must be allowed to run there.
                os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and cached answers live in the cache: every test starts clean."""
    from parta.access.cache import mirror as access_mirror
    from parta.common.authentication import mirror as token_mirror
    from parta.common.live import live_prime

    def clear():
        cache.clear()
        access_mirror.clear()
        token_mirror.clear()
        # Each test's database starts with no live settings stored: say so to the cache,
        # so that pages' pinned query counts do not include the first lookup.
        live_prime({})

    clear()
    yield
    clear()


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Messages built outside a request (services, commands) come out in English in
    tests, so assertions read the same everywhere; pages still get the school's
    language from the middleware."""
    with translation.override("en"):
        yield


@pytest.fixture
def smtp_sink(settings):
    """Django sends mail through its real SMTP backend to an aiosmtpd server on loopback."""
    from parta.common.testing.smtp import start_sink

    sink, controller = start_sink()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = sink.host
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def browser_live_server(live_server):
    """The live server browser tests drive."""
    return live_server
