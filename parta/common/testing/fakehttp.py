"""The base of Parta's fake payment servers (fake_yookassa, fake_tbank, fake_cloudpayments):
a threaded ``http.server`` on a free loopback port that hands each request to a method
of the fake, records it, and can be told to fail the next calls, to be slow, or to
carry a call out and drop the connection before answering.

A fake is used as a context manager (or start()/stop()); its state lives in plain dicts
under one lock, so a test can read what Parta sent and drive a payment's states (what the
buyer does on the provider's page) while Parta talks to it from other threads.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from parta.common.testing.processes import free_port


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"

    @classmethod
    def of(cls, data: Any, status: int = 200) -> Reply:
        return cls(status=status, body=json.dumps(data, ensure_ascii=False).encode())


@dataclass
class FakeServer:
    """Subclasses implement ``handle(call) -> Reply``."""

    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    calls: list[Call] = field(default_factory=list)
    # The next N API calls answer with this status (a 5xx: the provider is down).
    fail_next: int = 0
    fail_status: int = 500
    # Calls to these paths are carried out, then the connection drops with no answer
    # (the next N of each): the provider did it, but the caller never heard.
    lose_answers: dict[str, int] = field(default_factory=dict)
    # Seconds to wait before handling a call to these paths (a slow provider).
    delays: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def handle(self, call: Call) -> Reply:  # pragma: no cover - every fake has its own
        raise NotImplementedError

    def _serve(self, call: Call) -> Reply | None:
        """The reply to send; None: drop the connection instead."""
        path = call.path.split("?")[0]
        delay = self.delays.get(path, 0)
        if delay:
            time.sleep(delay)  # outside the lock: other calls go on meanwhile
        with self.lock:
            self.calls.append(call)
            if self.fail_next:
                self.fail_next -= 1
                return Reply.of({"error": "unavailable"}, status=self.fail_status)
            reply = self.handle(call)
            if self.lose_answers.get(path):
                self.lose_answers[path] -= 1
                return None
            return reply

    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                call = Call(
                    method=self.command,
                    path=self.path,
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                )
                reply = fake._serve(call)
                if reply is None:
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = _any

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def calls_to(self, path: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path.split("?")[0] == path]


def post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """Deliver a notification the way a provider does (to a live server)."""
    return httpx.post(url, content=body, headers=headers, timeout=10)
