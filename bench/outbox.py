"""The outbox: what ``notify`` costs a request, and how fast workers drain it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/outbox.py [--events 2000] [--rows 4000] [--workers 2]

1. Enqueue: ``notify`` (three channels: one INSERT of three rows, and the delivery task
   handed to the broker on commit) inside a request's transaction, against a bare INSERT of
   one row in the same kind of transaction (the reference). Also counts the queries of one
   ``notify`` and checks that nothing was sent before the commit.
2. Delivery: ``deliver_due`` in N worker processes draining site rows and email rows (Django's
   in-memory email backend), against a bare loop in one process that reads each row and marks
   it sent (the floor for "claim, record" without leases or outcomes).

Medians of 3 runs; machines here differ threefold from run to run, the ratios do not.
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import prepare_database  # noqa: E402


def _setup() -> None:
    os.environ["DATABASE_URL"] = prepare_database("parta_bench_outbox", postgres_only=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    # The broker is in memory and tasks are not run in process: enqueueing is measured,
    # not delivery.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _users(count: int):
    from parta.accounts.models import User

    User.objects.bulk_create(
        [User(email=f"bench{n}@example.com", full_name=f"Bench {n}") for n in range(count)],
        ignore_conflicts=True,
    )
    return list(User.objects.order_by("pk")[:count])


def bench_enqueue(events: int) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from parta.notifications.models import Message
    from parta.notifications.services import notify

    users = _users(100)
    run_id = time.time_ns()

    def with_notify(n: int) -> None:
        with transaction.atomic():
            notify(
                user=users[n % 100],
                kind="access_ended",
                context={"course_id": 1, "course_title": "Bench", "available_until": None},
                dedup_key=f"bench:{run_id}:{n}",
            )

    def bare_insert(n: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO notifications_message (user_id, kind, channel, dedup_key, context,"
                " status, attempts, next_attempt_at, last_error, peer_id, created_at)"
                " VALUES (%s, 'access_ended', 'site', %s, '{}', 'queued', 0, now(), '', '',"
                " now())",
                [users[n % 100].pk, f"bare:{run_id}:{n}"],
            )

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        notify(user=users[0], kind="access_ended", context={}, dedup_key=f"probe:{run_id}")
        sent_before_commit = Message.objects.filter(dedup_key=f"probe:{run_id}").exclude(
            status="queued"
        )
        probe_sent = sent_before_commit.exists()
    statements = [
        q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")
    ]
    notify_queries = len(statements) - 1  # less the probe's own query

    from parta.notifications import services

    def without_hand_off(n: int) -> None:
        handed = services._start_delivery
        services._start_delivery = lambda: None
        try:
            with_notify(n)
        finally:
            services._start_delivery = handed

    results = {}
    cases = (
        ("bare INSERT (reference)", bare_insert),
        ("notify()", with_notify),
        ("notify(), no hand-off", without_hand_off),
    )
    for run in range(3):
        # Alternating, so that a slow moment of the machine hits every case.
        for index, (label, work) in enumerate(cases):
            started = time.perf_counter()
            for n in range(events):
                work((run * len(cases) + index) * events + n)
            results.setdefault(label, []).append(time.perf_counter() - started)
    results = {label: statistics.median(times) / events for label, times in results.items()}
    reference = results["bare INSERT (reference)"]
    print(f"\nEnqueue, {events} events per run, each in its own transaction (median of 3):")
    for label, per_event in results.items():
        print(
            f"  {label:24s} {per_event * 1e6:8.0f} µs/event  {1 / per_event:8.0f} events/s"
            f"  x{per_event / reference:.2f}"
        )
    print(
        f"  notify(): {notify_queries} statement(s) before commit ({statements[0][:28]}...,"
        f" 3 rows); sent before commit: {'yes' if probe_sent else 'no'}; the hand-off is"
        " one deliver_due.delay() after commit"
    )


def _worker(_index: int) -> int:
    from django.db import connections

    from parta.notifications import delivery

    connections.close_all()
    total = 0
    while True:
        run = delivery.deliver_due(budget_seconds=600)
        total += run.total
        if not run.more_due:
            return total


def _prepare_rows(rows: int, channel: str) -> None:
    from parta.notifications.models import Message

    Message.objects.all().delete()
    users = _users(max(1, rows // 10))
    Message.objects.bulk_create(
        [
            Message(
                user=users[n % len(users)],
                kind="access_ended",
                channel=channel,
                dedup_key=f"drain:{n}",
                context={"course_id": 1, "course_title": "Bench", "available_until": None},
            )
            for n in range(rows)
        ],
        batch_size=1000,
    )


def _bare_loop() -> int:
    from django.utils import timezone

    from parta.notifications.models import Message

    count = 0
    for row in Message.objects.filter(status="queued").order_by("pk").iterator():
        Message.objects.filter(pk=row.pk).update(status="sent", sent_at=timezone.now())
        count += 1
    return count


def bench_delivery(rows: int, workers: int) -> None:
    from django.db import connections

    from parta.notifications.models import Message

    print(f"\nDelivery of {rows} rows (median of 3):")
    context = multiprocessing.get_context("fork")
    for channel in ("site", "email"):
        figures = {}
        labels = ("bare loop, 1 process (reference)", f"deliver_due, {workers} workers")
        times_of: dict[str, list[float]] = {label: [] for label in labels}
        for _ in range(3):
            for label in labels:
                times = times_of[label]
                _prepare_rows(rows, channel)
                connections.close_all()
                started = time.perf_counter()
                if label.startswith("bare"):
                    done = _bare_loop()
                else:
                    with context.Pool(workers) as pool:
                        done = sum(pool.map(_worker, range(workers)))
                times.append(time.perf_counter() - started)
                assert done == rows, (label, done)
                sent = Message.objects.filter(status="sent").count()
                assert sent == rows, (label, sent)
        for label in labels:
            figures[label] = rows / statistics.median(times_of[label])
        reference = figures["bare loop, 1 process (reference)"]
        for label, per_second in figures.items():
            print(
                f"  {channel:5s} {label:34s} {per_second:8.0f} rows/s"
                f"  x{per_second / reference:.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=None, help="PARTA_NOTIFY_CLAIM_BATCH")
    args = parser.parse_args()
    if args.batch:
        os.environ["PARTA_NOTIFY_CLAIM_BATCH"] = str(args.batch)
    _setup()
    from django.conf import settings

    print(
        f"database: {settings.DATABASES['default']['NAME']}; claim batch"
        f" {settings.PARTA_NOTIFY_CLAIM_BATCH}"
    )
    bench_enqueue(args.events)
    bench_delivery(args.rows, args.workers)


if __name__ == "__main__":
    main()
