"""A real Celery worker with embedded beat, on Redis: a scheduled post goes out when its
time comes (``news.publish_due``) and the outbox delivers it (``notifications.deliver_due``);
the weekly digest, fired by beat twice, stores one message per person and week. Runs in CI
(PostgreSQL + Redis); skipped on SQLite or without REDIS_URL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.billing.tests.test_celery_worker import _broker_url, _stop
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.processes import database_url_for_tests
from parta.common.time import school_today
from parta.learning.models import DailyActivity
from parta.news.digest import last_week
from parta.news.models import Audience, Post, PostStatus
from parta.news.services import post_create, post_publish
from parta.notifications.channels.base import Channel
from parta.notifications.models import Message, Preference, Status

REDIS_URL: str = settings.REDIS_URL
WAIT_SECONDS = 40.0

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis as the Celery broker; set REDIS_URL"),
    pytest.mark.django_db(transaction=True),
]

DIGEST_DONE = re.compile(r"Task news\.weekly_digest\[[\w-]+\] succeeded in \S+s: 1\b")
PUBLISH_SENT_BY_BEAT = re.compile(r"Sending due task \S+ \(news\.publish_due\)")
# Without a bot token (or, before the Telegram sender exists, without its module) the
# outbox skips Telegram rows and says why.
TELEGRAM_OFF = ("bot not configured", "channel not available")


def _worker_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.django.base",
        "DATABASE_URL": database_url_for_tests(),
        "CELERY_BROKER_URL": _broker_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PARTA_NEWS_PUBLISH_EVERY": "1",
        "PARTA_NOTIFY_DELIVER_EVERY": "1",
        "PARTA_DIGEST_EVERY": "2",
        # The embedded default backend: the console (the worker's log) and a file per
        # connection in PARTA_MAIL_DIR.
        "EMAIL_BACKEND": "parta.common.mail.ConsoleAndFolderBackend",
        "PARTA_MAIL_DIR": str(tmp_path / "mail"),
        "TELEGRAM_BOT_TOKEN": "",
        "PYTHONUNBUFFERED": "1",
    }


def _mail(tmp_path: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in (tmp_path / "mail").glob("*"))


def _rows(**filters) -> list[tuple[str, str, str]]:
    return sorted(Message.objects.filter(**filters).values_list("channel", "status", "last_error"))


def _wait(until: Callable[[], bool], worker: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and worker.poll() is None:
        if until():
            return True
        time.sleep(0.25)
    return until()


def _telegram_off(channel: str, status: str, error: str) -> bool:
    return channel == Channel.TELEGRAM and (
        status == Status.SENT or (status == Status.SKIPPED and error.startswith(TELEGRAM_OFF))
    )


def test_worker_with_beat_publishes_a_scheduled_post_and_sends_the_digest_once(
    tmp_path: Path,
) -> None:
    (tmp_path / "mail").mkdir()
    course = CourseFactory(title="Algebra", slug="algebra")
    other_course = CourseFactory(title="Geometry", slug="geometry")
    reader = UserFactory(email="ann@example.com")
    AccessGrantFactory(user=reader, course=course)
    # Linked to Telegram, digest on by email too, studying the other course (not in the
    # post's audience); solved tasks last week.
    learner = UserFactory(email="tg@example.com", telegram_chat_id=555)
    AccessGrantFactory(
        user=learner, course=other_course, starts_at=timezone.now() - timedelta(days=30)
    )
    Preference.objects.create(
        user=learner, kind="weekly_digest", channel=Channel.EMAIL, enabled=True
    )
    DailyActivity.objects.create(
        user=learner,
        course=other_course,
        day=school_today() - timedelta(days=7),
        tasks_solved=3,
        correct_answers=3,
    )
    week = last_week()
    post = post_create(
        author=ModeratorFactory(),
        title="Exam moved to Friday",
        body="The exam is on **Friday** now.",
        audience=Audience.COURSE,
        course=course,
    )
    post = post_publish(post=post, at=timezone.now() + timedelta(seconds=3))
    assert post.status == PostStatus.SCHEDULED

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

    def log_text() -> str:
        return log_path.read_text(errors="replace")

    def post_delivered() -> bool:
        return (
            _rows(dedup_key=post.dedup_key)
            == [(Channel.EMAIL, Status.SENT, ""), (Channel.SITE, Status.SENT, "")]
            and Post.objects.filter(pk=post.pk, status=PostStatus.SENT).exists()
            and "To: ann@example.com" in _mail(tmp_path)
        )

    def digest_twice() -> bool:
        rows = _rows(kind="weekly_digest")
        return (
            len(DIGEST_DONE.findall(log_text())) >= 2
            and len(rows) == 2
            and rows[0] == (Channel.EMAIL, Status.SENT, "")
            and _telegram_off(*rows[1])
        )

    try:
        delivered = _wait(post_delivered, worker)
        digested = _wait(digest_twice, worker)
    finally:
        _stop(worker)
        broker.flushdb()
        broker.close()

    output = log_text()
    mail = _mail(tmp_path)
    assert delivered, (
        f"post not delivered in {WAIT_SECONDS:.0f} s: {_rows(dedup_key=post.dedup_key)}, "
        f"{Post.objects.get(pk=post.pk).status}; worker said:\n{output}"
    )
    assert PUBLISH_SENT_BY_BEAT.search(output), output
    post.refresh_from_db()
    assert post.published_at is not None
    assert post.published_at >= post.publish_at
    # Only the course's student got the post; its email arrived once.
    assert set(
        Message.objects.filter(dedup_key=post.dedup_key).values_list("user", flat=True)
    ) == {reader.pk}
    assert mail.count("Subject: Exam moved to Friday") == 1, mail

    assert digested, (
        f"digest not stored once after two runs in {WAIT_SECONDS:.0f} s: "
        f"{_rows(kind='weekly_digest')}; worker said:\n{output}"
    )
    [(user_id, dedup_key)] = set(
        Message.objects.filter(kind="weekly_digest").values_list("user", "dedup_key")
    )
    assert (user_id, dedup_key) == (learner.pk, week.dedup_key)
    # Beat fired the digest twice or more; one email to the learner all the same.
    assert len(DIGEST_DONE.findall(output)) >= 2, output
    assert mail.count("To: tg@example.com") == 1, mail
