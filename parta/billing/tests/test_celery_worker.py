"""A real Celery worker with embedded beat, on Redis, switches off an expired grant on
schedule. Runs in CI (PostgreSQL + Redis); skipped on SQLite or without REDIS_URL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from parta.access.models import AccessGrant
from parta.access.tests.factories import AccessGrantFactory
from parta.common.testing.processes import database_url_for_tests

REDIS_URL: str = settings.REDIS_URL
WAIT_SECONDS = 40.0

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis as the Celery broker; set REDIS_URL"),
    pytest.mark.django_db(transaction=True),
]

SENT_BY_BEAT = re.compile(r"Sending due task \S+ \(billing\.expire_grants\)")
RECEIVED = re.compile(r"Task billing\.expire_grants\[[\w-]+\] received")
SWITCHED_OFF_ONE = re.compile(r"Task billing\.expire_grants\[[\w-]+\] succeeded in \S+s: 1\b")


def _redis_db(url: str) -> str | None:
    parts = urlsplit(url)
    return (parts.path.strip("/") or "0") if parts.scheme in {"redis", "rediss"} else None


def _broker_url() -> str:
    """The cache's Redis server, in a database of its own: neither the cache's (tests clear
    it) nor a configured broker's (a developer's real queue must not be flushed)."""
    taken = {_redis_db(REDIS_URL), _redis_db(os.environ.get("CELERY_BROKER_URL", ""))}
    db = next(n for n in range(2, 16) if str(n) not in taken)
    return urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{db}"))


def _worker_env(tmp_path: Path) -> dict[str, str]:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.django.base",
        "DATABASE_URL": database_url_for_tests(),
        "CELERY_BROKER_URL": _broker_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PARTA_EXPIRE_GRANTS_EVERY": "1",
        # The email goes to the worker's log, where the test can see it was sent.
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "PARTA_MAIL_DIR": str(mail_dir),
        "PYTHONUNBUFFERED": "1",
    }


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Warm shutdown of the worker and its beat child (own process group), then kill."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(worker.pid, sig)
        except ProcessLookupError:
            return
        try:
            worker.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def test_worker_with_beat_switches_off_an_expired_grant(tmp_path: Path) -> None:
    grant = AccessGrantFactory(
        starts_at=timezone.now() - timedelta(days=30),
        available_until=timezone.now() - timedelta(minutes=1),
        is_active=True,
    )
    broker = redis.Redis.from_url(_broker_url())
    broker.flushdb()
    log_path = tmp_path / "worker.log"
    command = [
        *(sys.executable, "-m", "celery", "-A", "config", "worker", "--beat"),
        *("--loglevel=INFO", "--concurrency=1", "--pool=solo"),
        *("--without-mingle", "--without-gossip", "--without-heartbeat"),
        *("-s", str(tmp_path / "celerybeat-schedule")),
    ]
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=_worker_env(tmp_path),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        switched_off = logged = mailed = False
        mail_line = f"To: {grant.user.email}"
        # The notice goes out through the outbox's own task after the switch-off: wait for
        # it too, or the worker is stopped before it can send.
        while time.monotonic() < deadline and worker.poll() is None:
            switched_off = AccessGrant.objects.filter(pk=grant.pk, is_active=False).exists()
            so_far = log_path.read_text(errors="replace")
            logged = bool(SWITCHED_OFF_ONE.search(so_far))
            mailed = mail_line in so_far
            if switched_off and logged and mailed:
                break
            time.sleep(0.2)
    finally:
        _stop(worker)
        broker.flushdb()
        broker.close()

    output = log_path.read_text(errors="replace")
    assert switched_off, f"grant still active after {WAIT_SECONDS:.0f} s; worker said:\n{output}"
    assert SENT_BY_BEAT.search(output), output
    assert RECEIVED.search(output), output
    assert SWITCHED_OFF_ONE.search(output), output
    assert mailed, output
