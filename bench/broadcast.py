"""A Telegram broadcast to many linked students against the fake Bot API limited to L/s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/12 \
        .venv/bin/python bench/broadcast.py [--students 10000] [--limit 500] [--processes 4]

Outbox mode (the default, ``--mode outbox``): 10,000 linked students get one Telegram row each
in the outbox; ``--processes`` worker processes run ``deliver_due`` (the Celery task's body)
until nothing is due. Printed: the total time against N / L, the worker's peak RSS, and the
same workers on site rows (nothing sent: the outbox's own cost, the reference). Then the
kill test: the same broadcast again, every worker ``kill -9``-ed half-way and started again
after its lease ends: the fake server must see no chat twice, and each student is either
delivered or ``unknown`` (at most one per sending thread: ``--worker-threads`` per
worker); then the same with a graceful SIGTERM (Celery's warm shutdown): none unknown.

Send mode (``--mode send``), below: ``telegram_send`` alone, without the outbox.

The fake Bot API server (parta.common.testing.telegram) runs in this process and answers
429 with retry_after above ``--limit`` messages a second. Sender processes (``--processes``,
each with ``--threads`` threads) send one message to every student's chat through
``telegram_send``, the outbox's Telegram entry, with PARTA_TELEGRAM_RATE = the limit: the
shared limiter (Redis when REDIS_URL is set, else per process, so use one process then) is
what keeps them under it. A 429 is waited out at its retry_after, as the worker reschedules.

Printed: the total time against the ideal N / L (target ≤ 1.1×), the 429s met, chats reached
twice (must be 0) or not at all, each sender's peak RSS; and, as the reference measured in
the same run, the same senders' raw speed against an unlimited server with the limiter off
(the bare echo): the machine must be well above L for the ratio to mean anything.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _warm_up() -> None:
    """aiogram builds its pydantic models on first use (seconds on a busy machine): a
    long-running worker pays it once, so the clock starts after it. The answer's model is
    the one the sends use (``response_type`` keeps it alive)."""
    from aiogram.types import Message

    from parta.notifications.telegram_api import response_type

    response_type(Message).model_validate(
        {
            "ok": True,
            "result": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1, "type": "private"},
                "text": "warm",
            },
        }
    )


def outbox_worker() -> None:
    """One outbox worker process: deliver until nothing is due, print its figures."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    import signal

    from django.utils import timezone

    from parta.notifications import delivery
    from parta.notifications.models import Message

    # A graceful stop, as Celery's warm shutdown does it: finish the message being sent.
    signal.signal(signal.SIGTERM, lambda *_: delivery.deliver_stop())
    _warm_up()
    total = 0
    started = time.time()
    while True:
        run = delivery.deliver_due(budget_seconds=600)
        total += run.total
        if delivery._stopping.is_set():
            break
        if not run.more_due:
            # Rows put back after a 429 wait for their retry time: the broadcast is done
            # only when none is left (a production worker's next beat run sends them).
            waiting = Message.objects.filter(status="queued").order_by("next_attempt_at").first()
            if waiting is None:
                break
            time.sleep(
                min(1.0, max(0.0, (waiting.next_attempt_at - timezone.now()).total_seconds()))
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"total": total, "start": started, "end": time.time(), "peak_rss_mb": peak}))


def _outbox_rows(students: int, channel: str, key: str) -> None:
    from parta.accounts.models import User
    from parta.notifications.models import Message

    Message.objects.all().delete()
    if User.objects.filter(email__startswith="broadcast").count() < students:
        User.objects.bulk_create(
            [
                User(
                    email=f"broadcast{n}@example.com",
                    full_name=f"Student {n}",
                    telegram_chat_id=2_000_000 + n,
                    language="en",
                )
                for n in range(students)
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
    users = list(User.objects.filter(email__startswith="broadcast").order_by("pk")[:students])
    Message.objects.bulk_create(
        [
            Message(
                user=user,
                kind="access_ended",
                channel=channel,
                dedup_key=key,
                context={"course_id": 1, "course_title": "Bench", "available_until": None},
            )
            for user in users
        ],
        batch_size=2000,
    )
    # Autovacuum's steady state: the claim query planned with the table's real size.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Message._meta.db_table}")


def _start_workers(count: int, env: dict) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [sys.executable, __file__, "--outbox-worker"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]


def _collect(workers: list[subprocess.Popen]) -> list[dict]:
    return [json.loads(worker.communicate()[0].strip().splitlines()[-1]) for worker in workers]


def bench_outbox(args) -> None:
    from bench.common import prepare_database

    os.environ["DATABASE_URL"] = prepare_database("parta_bench_broadcast", postgres_only=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from parta.common.testing.telegram import TOKEN, FakeTelegram
    from parta.notifications.models import Message
    from parta.notifications.telegram_api import get_limiter

    call_command("migrate", verbosity=0)
    get_limiter().reset()
    peer = FakeTelegram(rate_limit=args.limit).start()
    lease = 5.0
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": peer.base_url,
        "PARTA_TELEGRAM_RATE": str(args.limit),
        "PARTA_NOTIFY_LEASE_SECONDS": str(lease),
        "PARTA_NOTIFY_HOLD_SECONDS": str(lease),
        "PARTA_LOG_LEVEL": "WARNING",
        "PARTA_NOTIFY_THREADS": str(args.worker_threads),
    }
    concurrency = args.processes * args.worker_threads
    print(
        f"{args.students} linked students, fake Bot API limited to {args.limit:g}/s, "
        f"{args.processes} outbox worker processes × {args.worker_threads} threads, limiter: "
        f"{'Redis' if os.environ.get('REDIS_URL') else 'database cache'}"
    )

    def drain(channel: str, key: str) -> tuple[float, list[dict]]:
        _outbox_rows(args.students, channel, key)
        connections.close_all()
        results = _collect(_start_workers(args.processes, env))
        return max(r["end"] for r in results) - min(r["start"] for r in results), results

    reference, _ = drain("site", "bench:site")
    print(
        f"reference: the same workers on site rows (no peer): {reference:.2f} s "
        f"= {args.students / reference:.0f} rows/s"
    )
    elapsed, results = drain("telegram", "bench:telegram")
    ideal = args.students / args.limit
    statuses = dict(Message.objects.values_list("status").annotate(n=django.db.models.Count("id")))
    delivered = peer.delivered_counts()
    print(
        f"broadcast: {elapsed:.2f} s; ideal N/L = {ideal:.2f} s; ratio {elapsed / ideal:.3f} "
        f"(target ≤ 1.1); rows {statuses}; chats twice: "
        f"{sum(1 for n in delivered.values() if n > 1)}; worker peak RSS: "
        f"{max(r['peak_rss_mb'] for r in results):.0f} MB"
    )

    for how in ("kill -9", "SIGTERM"):
        peer = _stop_test(args, env, peer, lease, how=how, concurrency=concurrency)
    peer.stop()


def _stop_test(args, env, peer, lease: float, *, how: str, concurrency: int):
    """Stop every worker half-way (``kill -9`` or a graceful SIGTERM), start them again:
    no chat twice, every student delivered or in doubt (unknown)."""
    import signal

    import django.db.models
    from django.db import connections

    from parta.common.testing.telegram import FakeTelegram
    from parta.notifications import delivery
    from parta.notifications.models import Message
    from parta.notifications.telegram_api import get_limiter

    get_limiter().reset()
    peer.stop()
    peer = FakeTelegram(rate_limit=args.limit).start()
    env["TELEGRAM_API_BASE"] = peer.base_url
    _outbox_rows(args.students, "telegram", f"bench:{how}")
    connections.close_all()
    workers = _start_workers(args.processes, env)
    peer.wait_for(lambda: len(peer._delivered) >= args.students // 2, timeout=600)
    for worker in workers:
        if how == "SIGTERM":
            worker.send_signal(signal.SIGTERM)
        else:
            worker.kill()
    for worker in workers:
        worker.wait()
    at_kill = len(peer.delivered_counts())
    time.sleep(lease + 1)
    swept = delivery.leases_sweep()
    # The rows the killed workers had reserved come due again when their hold ends.
    time.sleep(1)
    _collect(_start_workers(args.processes, env))
    delivery.leases_sweep()
    delivered = peer.delivered_counts()
    statuses = dict(Message.objects.values_list("status").annotate(n=django.db.models.Count("id")))
    unknown = set(
        Message.objects.filter(status="unknown").values_list("user__telegram_chat_id", flat=True)
    )
    sent_chats = set(delivered)
    students = set(range(2_000_000, 2_000_000 + args.students))
    print(
        f"{how} of {args.processes} workers after {at_kill} deliveries, restarted: "
        f"rows {statuses}; marked unknown: {swept} (at most {concurrency}"
        f"{', and none for a graceful stop' if how == 'SIGTERM' else ''}); chats twice: "
        f"{sum(1 for n in delivered.values() if n > 1)}; students neither delivered nor "
        f"unknown: {len(students - sent_chats - unknown)}"
    )
    return peer


def child(args) -> None:
    """One sender process: send to its share of the chats, print its figures as JSON."""
    import queue
    import threading

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.base")
    import django

    django.setup()
    from parta.notifications import telegram_api
    from parta.notifications.channels.base import RetryLater

    chats: queue.SimpleQueue[int] = queue.SimpleQueue()
    for chat in range(args.first, args.first + args.count):
        chats.put(chat)
    figures = {"sent": 0, "retry_after": 0, "errors": 0}
    lock = threading.Lock()

    def work() -> None:
        while True:
            try:
                chat = chats.get_nowait()
            except queue.Empty:
                break
            while True:
                try:
                    telegram_api.telegram_send(chat_id=chat, text=f"News for <b>{chat}</b>")
                except RetryLater as exc:
                    with lock:
                        figures["retry_after"] += 1
                    time.sleep(exc.retry_after or 1)
                    continue
                except Exception:
                    with lock:
                        figures["errors"] += 1
                    break
                with lock:
                    figures["sent"] += 1
                break
        telegram_api.telegram_close()

    threads = [threading.Thread(target=work) for _ in range(args.threads)]
    # The clock starts once Django is up, so process start-up is not counted.
    _warm_up()
    figures["start"] = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures["end"] = time.time()
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures), flush=True)


def run_senders(peer, *, students: int, processes: int, threads: int, rate: float) -> dict:
    from parta.common.testing.telegram import TOKEN

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.django.base",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": peer.base_url,
        "PARTA_TELEGRAM_RATE": str(rate),
        "PARTA_TELEGRAM_CHAT_INTERVAL": "1",
        "PARTA_LOG_LEVEL": "WARNING",
    }
    share = students // processes
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                "--first",
                str(1_000_000 + n * share),
                "--count",
                str(share if n < processes - 1 else students - share * (processes - 1)),
                "--threads",
                str(threads),
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    results = [json.loads(worker.communicate()[0].strip().splitlines()[-1]) for worker in workers]
    elapsed = max(r["end"] for r in results) - min(r["start"] for r in results)
    delivered = peer.delivered_counts()
    return {
        "elapsed": elapsed,
        "sent": sum(r["sent"] for r in results),
        "retry_after": sum(r["retry_after"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "twice": sum(1 for count in delivered.values() if count > 1),
        "missing": students - len(delivered),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--limit", type=float, default=500.0)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="send mode's threads")
    parser.add_argument(
        "--worker-threads", type=int, default=4, help="outbox mode: PARTA_NOTIFY_THREADS"
    )
    parser.add_argument("--reference-students", type=int, default=3_000)
    parser.add_argument("--mode", choices=["outbox", "send"], default="outbox")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--outbox-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.outbox_worker:
        outbox_worker()
        return
    if args.mode == "outbox":
        bench_outbox(args)
        return
    if args.processes > 1 and not os.environ.get("REDIS_URL"):
        sys.exit("several sender processes share the limiter only through Redis: set REDIS_URL")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.base")
    import django

    django.setup()
    from parta.common.testing.telegram import FakeTelegram
    from parta.notifications.telegram_api import get_limiter

    print(
        f"{args.students} chats, fake Bot API limited to {args.limit:g}/s, "
        f"{args.processes} sender process(es) × {args.threads} threads, limiter: "
        f"{'Redis' if os.environ.get('REDIS_URL') else 'in process'}"
    )

    bare = FakeTelegram().start()
    reference = run_senders(
        bare,
        students=args.reference_students,
        processes=args.processes,
        threads=args.threads,
        rate=1_000_000,
    )
    bare.stop()
    raw_rate = reference["sent"] / reference["elapsed"]
    print(
        f"reference (bare echo, no limit): {reference['sent']} sends in "
        f"{reference['elapsed']:.2f} s = {raw_rate:.0f}/s "
        f"({raw_rate / args.limit:.1f}× the limit)"
    )

    get_limiter().reset()
    peer = FakeTelegram(rate_limit=args.limit).start()
    result = run_senders(
        peer,
        students=args.students,
        processes=args.processes,
        threads=args.threads,
        rate=args.limit,
    )
    peer.stop()
    get_limiter().reset()
    ideal = args.students / args.limit
    print(
        f"broadcast: {result['sent']} sent in {result['elapsed']:.2f} s; "
        f"ideal N/L = {ideal:.2f} s; ratio {result['elapsed'] / ideal:.3f} (target ≤ 1.1)"
    )
    print(
        f"429 answers: {result['retry_after']}, errors: {result['errors']}, "
        f"chats reached twice: {result['twice']}, not reached: {result['missing']}, "
        f"sender peak RSS: {result['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
