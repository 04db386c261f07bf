"""Helpers for tests that run parts of Parta in other processes: a free loopback port,
the test database's URL, and a real WSGI server (gunicorn) on the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from django.db import connection


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_tests() -> str:
    """DATABASE_URL with pytest-django's test database (test_<name>, or per-xdist-worker)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + quote(connection.settings_dict["NAME"])))


@contextlib.contextmanager
def wsgi_server(*, workers: int = 2, env: dict[str, str] | None = None) -> Iterator[str]:
    """Parta under gunicorn (sync workers) on loopback, on the test database and the
    same cache; yields its base URL once /healthz answers. Needs a committed database
    (``django_db(transaction=True)``): the server cannot see a test's transaction."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.django.base",
            "DATABASE_URL": database_url_for_tests(),
            **(env or {}),
        },
        cwd=Path(__file__).resolve().parents[3],
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Generous: on a loaded two-core machine Django takes a while to import.
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the WSGI server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextlib.contextmanager
def redis_server(directory: Path, *, port: int | None = None) -> Iterator[subprocess.Popen]:
    """A private ``redis-server`` on loopback (its snapshot kept in ``directory``), for
    tests that kill it; yields the process once it answers. Stopped (killed) on exit."""
    port = port or free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(directory),
            "--dbfilename",
            "dump.rdb",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    server.port = port  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield server
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
