"""Chat's live replies: how long from a moderator's POST to the student's open socket.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/chat.py [--clients 500] [--replies 200] [--interval 0.05]

Creates a fresh PostgreSQL database next to DATABASE_URL's with one moderator and
``--clients`` students, each with a support thread assigned to the moderator and a signed-in
session. Starts README's production command (uvicorn, its workers, channels-redis on
REDIS_URL under a prefix of this run) on a free loopback port, serving bench/chat_asgi.py:
Parta's ASGI application plus a bare websocket echo. Every student opens the thread's socket
(signed in by the session cookie, as a browser would). The moderator then posts
``--replies`` replies, one after another, each to another student's thread, through the
thread page's form as live.js sends it (POST with the CSRF token, a client key and
HX-Request; chat's ``message_post`` stores it, notifies through the outbox and announces it
on commit); the delay of each is from just before its POST to the arrival on that student's
socket. Beside it, during the same run, a bare echo socket is pinged at the same pace: its
round trip is the yardstick (what a websocket costs on this machine with the server this
busy).

The outbox's delivery is a Celery worker's job in production: the server only queues it
(an in-memory broker, nothing delivered); ``--deliver-in-process`` delivers in the request
as `make run` does. The per-user message limit is lifted for the moderator's 200 replies.

Prints p50/p99/max of both, the POST's own response time, and checks that each replied
student got exactly their one message (none lost, none doubled) and nobody else any.
Target: p99 < 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, prepare_database  # noqa: E402

COMMAND_LINE = re.compile(r"^(?:\S*/)?uvicorn config\.asgi:application\s")


def production_command(port: int) -> list[str]:
    """README's production command, serving bench/chat_asgi.py on ``port``."""
    lines = [
        line.strip()
        for line in (ROOT / "README.md").read_text().splitlines()
        if COMMAND_LINE.match(line.strip())
    ]
    if len(lines) != 1:
        sys.exit(f"README should name one production uvicorn command, found {len(lines)}")
    argv = shlex.split(lines[0])
    argv[0] = str(Path(sys.executable).parent / "uvicorn")
    argv[1] = "bench.chat_asgi:application"
    argv[argv.index("--host") + 1] = "127.0.0.1"
    argv[argv.index("--port") + 1] = str(port)
    return argv


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def figures(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{name:<34} n={len(ms):<4} p50 {percentile(ms, 50):7.1f} ms   "
        f"p99 {percentile(ms, 99):7.1f} ms   max {max(ms):7.1f} ms"
    )


def prepare(clients: int) -> tuple[list[tuple[int, str]], str, int]:
    """The people and threads; returns [(thread id, student's session cookie)], the
    moderator's session cookie and the warm-up's thread."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.utils import timezone

    from parta.accounts.models import Role, User
    from parta.chat.models import ChatMessage, Thread, ThreadKind

    call_command("migrate", verbosity=0)
    session_store = __import__(settings.SESSION_ENGINE, fromlist=["SessionStore"]).SessionStore

    def signed_in(user) -> str:
        session = session_store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    moderator = User.objects.create_user(
        email="bench-moderator@example.com", full_name="Мария Ивановна", role=Role.MODERATOR
    )
    students = User.objects.bulk_create(
        User(email=f"bench{i}@example.com", full_name=f"Ученик {i}", password="!")
        for i in range(clients)
    )
    now = timezone.now()
    threads = Thread.objects.bulk_create(
        Thread(
            kind=ThreadKind.SUPPORT,
            student=s,
            subject=f"Вопрос {i}",
            assignee=moderator,
            waiting_since=now,
            last_message_at=now,
            last_student_message_at=now,
        )
        for i, s in enumerate(students)
    )
    ChatMessage.objects.bulk_create(
        ChatMessage(thread=t, author=t.student, text="Как оплатить курс?", created_at=now)
        for t in threads
    )
    people = [(t.pk, signed_in(s)) for t, s in zip(threads, students, strict=True)]
    cookie = signed_in(moderator)
    # The warm-up's thread: its student has no socket open.
    lurker = User.objects.create_user(email="bench-warmup@example.com", full_name="Разминка")
    warmup = Thread.objects.create(kind=ThreadKind.SUPPORT, student=lurker, subject="Разминка")
    from django.db import connections

    connections.close_all()
    return people, cookie, warmup.pk


async def run(args, port: int, people, moderator_cookie: str, warmup_thread: int) -> int:
    import aiohttp
    from websockets.asyncio.client import connect
    from yarl import URL

    base = f"http://127.0.0.1:{port}"
    origin = f"http://127.0.0.1:{port}"
    received: dict[int, list[tuple[int, float]]] = {thread_id: [] for thread_id, _ in people}
    sockets = []

    async def listen(thread_id: int, ws) -> None:
        async for raw in ws:
            event = json.loads(raw)
            received[thread_id].append((event.get("id"), time.perf_counter()))

    started = time.perf_counter()
    limit = asyncio.Semaphore(50)

    async def open_one(thread_id: int, cookie: str):
        async with limit:
            ws = await connect(
                f"ws://127.0.0.1:{port}/ws/chat/threads/{thread_id}/",
                origin=origin,
                additional_headers={"Cookie": cookie},
                open_timeout=30,
                max_queue=None,
            )
        return thread_id, ws

    listeners = []
    for thread_id, ws in await asyncio.gather(*(open_one(t, c) for t, c in people)):
        sockets.append(ws)
        listeners.append(asyncio.create_task(listen(thread_id, ws)))
    # A socket refused (4403) or broken is closed by now; all must still be open.
    await asyncio.sleep(1.0)
    opened = sum(1 for ws in sockets if ws.close_code is None)
    took = time.perf_counter() - started
    print(f"{opened} of {len(people)} student sockets open in {took:.1f}s")
    if opened != len(people):
        return 1

    echo = await connect(f"ws://127.0.0.1:{port}/ws/bench/echo/", origin=origin)
    echo_rtts: list[float] = []
    post_times: list[float] = []
    sent_at: dict[int, float] = {}
    answered_at: dict[int, float] = {}
    message_of: dict[int, int] = {}
    targets = [thread_id for thread_id, _ in people][: args.replies]

    async def pinger() -> None:
        for i in range(args.replies):
            t0 = time.perf_counter()
            await echo.send(str(i))
            assert await echo.recv() == str(i)
            echo_rtts.append(time.perf_counter() - t0)
            await asyncio.sleep(args.interval)

    connector = aiohttp.TCPConnector(limit=1)
    # Cookies of a loopback IP are kept only by an "unsafe" jar.
    jar = aiohttp.CookieJar(unsafe=True)
    name, _, value = moderator_cookie.partition("=")
    jar.update_cookies({name: value}, URL(base))
    http = aiohttp.ClientSession(base, connector=connector, cookie_jar=jar)

    # The CSRF token of the thread page's form (and its cookie, kept by the session).
    async with http.get(f"/chat/threads/{warmup_thread}/") as page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', await page.text())
    if token is None:
        raise RuntimeError("no CSRF token on the thread page")

    async def post(thread_id: int, text: str) -> int:
        form = {
            "csrfmiddlewaretoken": token.group(1),
            "client_key": uuid.uuid4().hex,
            "text": text,
        }
        async with http.post(
            f"/chat/threads/{thread_id}/", data=form, headers={"HX-Request": "true"}
        ) as response:
            body = await response.text()
            if response.status != 201:
                raise RuntimeError(f"reply to thread {thread_id}: {response.status} {body}")
            return int(re.search(r'data-id="(\d+)"', body).group(1))

    async def moderator() -> None:
        for i, thread_id in enumerate(targets):
            t0 = time.perf_counter()
            sent_at[thread_id] = t0
            message_of[thread_id] = await post(
                thread_id, f"Ответ {i}: оплатить можно картой на странице курса."
            )
            answered_at[thread_id] = time.perf_counter()
            post_times.append(answered_at[thread_id] - t0)
            await asyncio.sleep(args.interval)

    # Warm-up, not measured: both workers serve their first replies (to a thread nobody
    # watches) and echoes.
    for _ in range(20):
        await post(warmup_thread, "warm-up")
        await echo.send("warm-up")
        await echo.recv()
    await asyncio.gather(pinger(), moderator())
    await http.close()
    # Stragglers: wait until every reply arrived, or 5 s.
    deadline = time.perf_counter() + 5
    while time.perf_counter() < deadline and any(not received[t] for t in targets):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # and a moment for any doubles

    delays, after_answer, lost, doubled, wrong, strays = [], [], 0, 0, 0, 0
    for thread_id, events in received.items():
        if thread_id not in message_of:
            strays += len(events)
            continue
        ids = [message_id for message_id, _ in events]
        if not ids:
            lost += 1
            continue
        if len(ids) > 1:
            doubled += 1
        if ids[0] != message_of[thread_id]:
            wrong += 1
        delays.append(events[0][1] - sent_at[thread_id])
        after_answer.append(events[0][1] - answered_at[thread_id])

    for ws in [*sockets, echo]:
        await ws.close()

    delivery = "in the request" if args.deliver_in_process else "queued for a worker"
    print(
        f"{len(targets)} replies, one every {args.interval * 1000:.0f} ms after the previous "
        f"answer; {len(people)} sockets open; notifications {delivery}"
    )
    print(figures("POST -> student's socket", delays))
    print(figures("bare websocket echo (round trip)", echo_rtts))
    print(figures("POST response time", post_times))
    # Negative: the socket had it before the POST's answer arrived (it is sent on commit).
    print(figures("socket minus the POST's answer", after_answer))
    print(
        f"lost {lost}, doubled {doubled}, wrong message {wrong}, "
        f"to students not replied to {strays}"
    )
    p99 = percentile([d * 1000 for d in delays], 99) if delays else float("inf")
    ok = not (lost or doubled or wrong or strays) and p99 < 200
    print("target p99 < 200 ms, nothing lost or doubled:", "met" if ok else "NOT met")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument(
        "--interval", type=float, default=0.05, help="seconds between replies (and pings)"
    )
    parser.add_argument(
        "--deliver-in-process", action="store_true",
        help="deliver the outbox's notifications in the request (as make run does)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.replies > args.clients:
        sys.exit("--replies must not exceed --clients")
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL: the production command's workers need channels-redis.")

    env = dict(os.environ)
    env["DATABASE_URL"] = prepare_database("parta_bench_chat", postgres_only=True)
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    env["PARTA_CHAT_MESSAGES_PER_MINUTE"] = "100000"
    if not args.deliver_in_process:
        env["CELERY_TASK_ALWAYS_EAGER"] = "false"
        env["CELERY_BROKER_URL"] = "memory://"
    env["PARTA_CHANNELS_PREFIX"] = f"parta-bench-chat-{os.getpid()}"
    env["PARTA_MAIL_DIR"] = tempfile.mkdtemp(prefix="parta-bench-mail-")
    env["PYTHONPATH"] = str(ROOT)
    os.environ.update(env)

    started = time.perf_counter()
    people, moderator_cookie, warmup_thread = prepare(args.clients)
    print(f"database: {env['DATABASE_URL'].split('@')[-1]}; {args.clients} students and threads")
    print(f"prepared in {time.perf_counter() - started:.1f}s")

    port = free_port()
    command = production_command(port)
    print("server:", " ".join(shlex.quote(a) for a in command[1:]))
    log = open(Path(env["PARTA_MAIL_DIR"]) / "server.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    status = 1
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"the server did not start; see {log.name}")
                time.sleep(0.2)
        status = asyncio.run(run(args, port, people, moderator_cookie, warmup_thread))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    sys.exit(status)


if __name__ == "__main__":
    main()
