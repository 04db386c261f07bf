"""The production ASGI command, exactly as README names it, started as a real process on
a free loopback port (on the test database): pages and static files over HTTP, the chat's
websocket signed in by the session cookie, a stranger closed with 4403; with Redis, a
message announced by another process (this test) reaches every socket the workers hold.
Runs in CI (PostgreSQL + Redis); the server cannot share SQLite's in-memory test database."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.chat import realtime
from parta.chat.models import ChatMessage, Thread, ThreadKind
from parta.common.testing.processes import database_url_for_tests, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
COMMAND_LINE = re.compile(r"^(?:\S*/)?uvicorn config\.asgi:application\s")


def production_command() -> list[str]:
    """The one command line in README that serves config.asgi with uvicorn."""
    lines = [
        line.strip()
        for line in (ROOT / "README.md").read_text().splitlines()
        if COMMAND_LINE.match(line.strip())
    ]
    assert len(lines) == 1, lines
    argv = shlex.split(lines[0])
    assert "--workers" in argv
    assert int(argv[argv.index("--workers") + 1]) >= 2
    return argv


def on_port(argv: list[str], port: int) -> list[str]:
    argv = list(argv)
    argv[argv.index("--host") + 1] = "127.0.0.1"
    argv[argv.index("--port") + 1] = str(port)
    if not (ROOT / argv[0]).exists():  # another virtualenv than the checkout's .venv
        argv[0] = str(Path(sys.executable).parent / "uvicorn")
    return argv


@contextlib.contextmanager
def production_server() -> Iterator[int]:
    """The README's command on a free port; yields the port once /healthz answers."""
    port = free_port()
    server = subprocess.Popen(
        on_port(production_command(), port),
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.django.base",
            "DATABASE_URL": database_url_for_tests(),
        },
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the ASGI server did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def open_socket(port: int, thread: Thread, user):
    return connect(
        f"ws://127.0.0.1:{port}/ws/chat/threads/{thread.pk}/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": session_cookie(user)},
        open_timeout=10,
    )


def support_thread(student) -> Thread:
    return Thread.objects.create(kind=ThreadKind.SUPPORT, student=student, subject="Оплата")


def test_the_readme_command_serves_pages_static_files_and_the_chat_socket():
    student, stranger = UserFactory(), UserFactory()
    thread = support_thread(student)
    with production_server() as port:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200
            assert page.headers["Content-Type"].startswith("text/html")
            assert "script-src" in page.headers["Content-Security-Policy"]
            assert b"<html" in page.read()
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/static/chat/live.js", timeout=10
        ) as script:
            assert script.status == 200
            assert b"chat-messages" in script.read()

        # Open and quiet: the page's socket waits for messages.
        with open_socket(port, thread, student) as own, pytest.raises(TimeoutError):
            own.recv(timeout=0.5)

        with open_socket(port, thread, stranger) as peeking:
            with pytest.raises(ConnectionClosed) as closed:
                peeking.recv(timeout=10)
            assert closed.value.rcvd.code == 4403


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis; set REDIS_URL")
def test_a_message_announced_by_another_process_reaches_every_open_socket():
    student, moderator = UserFactory(), ModeratorFactory()
    thread = support_thread(student)
    with production_server() as port, contextlib.ExitStack() as stack:
        # Several sockets, so that both workers likely hold some.
        sockets = [
            stack.enter_context(open_socket(port, thread, who))
            for who in [student] * 6 + [moderator] * 2
        ]
        message = ChatMessage.objects.create(
            thread=thread, author=moderator, from_staff=True, text="Ответ: 42"
        )
        realtime.message_posted(message)
        for sock in sockets:
            event = json.loads(sock.recv(timeout=10))
            assert event["type"] == "message"
            assert event["id"] == message.pk
            assert "Ответ: 42" in event["html"]
        for sock in sockets:
            with pytest.raises(TimeoutError):
                sock.recv(timeout=0.2)


def test_the_asgi_server_process_pools_its_database_connections():
    """Each ASGI request's synchronous code runs in a thread of its own, where Django's
    persistent connections are never reused; a process that starts Django through
    config.asgi (as the server does) keeps a pool instead."""
    probe = (
        "import config.asgi\n"
        "from django.db import connection\n"
        "print(connection.settings_dict['CONN_MAX_AGE'], connection.settings_dict['OPTIONS'])\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SELECT 1')\n"
        "print(type(connection.pool).__name__)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.django.base",
        "DATABASE_URL": database_url_for_tests(),
    }
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    assert first.startswith("0 ")
    assert "'pool'" in first
    assert second == "ConnectionPool"
