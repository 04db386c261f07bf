"""A Telegram broadcast to many linked students against the fake Bot API limited to L/s.

    REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/broadcast.py \
        [--students 10000] [--limit 500] [--processes 2] [--threads 4]

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
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--reference-students", type=int, default=3_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
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
