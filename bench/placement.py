"""Study-group placement under concurrency on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/placement.py [--workers 16] [--per-worker 25] [--size 30]

Creates a fresh database and one course whose groups take ``--size`` students, then
gives access to new students from ``--workers`` processes at once, each student a grant
through ``access_grant_create`` (the path every grant takes: the grant, then placement
under the course's lock, in one transaction). All of them go into the one course: the
worst case, since placements into one course take turns.

Beside it, in the same run, the reference: grant creation without placement (the same
INSERT in its own transaction with the cache bump on commit, into a second course, as
``access_grant_create`` did before groups). The two alternate ``--rounds`` times and the
medians are printed, with the check that no group is above its size, seat counts equal
the rows and no student is in two groups.
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


def _grant_only(user, course) -> None:
    """The reference: access_grant_create without the placement."""
    from django.db import transaction
    from django.utils import timezone

    from parta.access.models import AccessGrant, GrantSource
    from parta.access.services import access_cache_invalidate

    with transaction.atomic():
        AccessGrant(
            user=user, course=course, source=GrantSource.MANUAL, starts_at=timezone.now()
        ).save()
        access_cache_invalidate(user_id=user.id)


def _worker(mode, course_id, user_ids, barrier, out) -> None:
    from django.db import connection

    from parta.access.models import GrantSource
    from parta.access.services import access_grant_create
    from parta.accounts.models import Role, User
    from parta.catalog.models import Course

    connection.ensure_connection()
    course = Course.objects.get(pk=course_id)
    users = [User(pk=pk, role=Role.STUDENT) for pk in user_ids]
    barrier.wait()
    started = time.perf_counter()
    for user in users:
        if mode == "place":
            access_grant_create(user=user, course=course, source=GrantSource.MANUAL)
        else:
            _grant_only(user, course)
    out.put((started, time.perf_counter()))
    connection.close()


def _phase(ctx, mode: str, course_id: int, users: list[int], workers: int) -> float:
    """Run one phase; grants per second from the first start to the last finish."""
    from django.db import connections

    connections.close_all()  # nothing inherited across the fork
    barrier = ctx.Barrier(workers)
    out = ctx.Queue()
    chunks = [users[i::workers] for i in range(workers)]
    procs = [
        ctx.Process(target=_worker, args=(mode, course_id, chunk, barrier, out))
        for chunk in chunks
    ]
    for proc in procs:
        proc.start()
    spans = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        if proc.exitcode != 0:
            raise SystemExit(f"a {mode} worker failed (exit code {proc.exitcode})")
    elapsed = max(end for _start, end in spans) - min(start for start, _end in spans)
    return len(users) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--per-worker", type=int, default=25)
    parser.add_argument(
        "--size", type=int, default=30, help="students per group (the course default)"
    )
    parser.add_argument("--batch", type=int, default=3, help="PARTA_GROUPS_BATCH")
    # Many short phases, alternating: the machine's load drifts, the medians less so.
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = prepare_database("parta_bench_placement", postgres_only=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["PARTA_GROUPS_BATCH"] = str(args.batch)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count, Q

    from parta.accounts.models import User
    from parta.catalog.models import Course
    from parta.groups.models import Group, Membership

    call_command("migrate", verbosity=0)
    placed_course = Course.objects.create(
        title="Placement", slug="placement", max_group_size=args.size
    )
    plain_course = Course.objects.create(title="Reference", slug="reference")
    phase_size = args.workers * args.per_worker
    users = iter(
        User.objects.bulk_create(
            User(email=f"s{i}@example.com", full_name=f"Student {i}", password="!")
            for i in range(2 * args.rounds * phase_size)
        )
    )

    def take() -> list[int]:
        return [next(users).pk for _ in range(phase_size)]

    ctx = multiprocessing.get_context("fork")
    reference, placement = [], []
    for _ in range(args.rounds):
        reference.append(_phase(ctx, "grant", plain_course.pk, take(), args.workers))
        placement.append(_phase(ctx, "place", placed_course.pk, take(), args.workers))

    groups = Group.objects.filter(course=placed_course).annotate(
        now=Count("memberships", filter=Q(memberships__ended_at=None))
    )
    overfull = sum(1 for g in groups if g.now > args.size)
    miscounted = sum(1 for g in groups if g.now != g.members_count)
    twice = (
        Membership.objects.filter(ended_at=None)
        .values("student", "course")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    placed = Membership.objects.filter(course=placed_course, ended_at=None).count()
    full = sum(1 for g in groups if g.now == args.size)
    ref, place = statistics.median(reference), statistics.median(placement)
    # Each placement phase against the reference phase just before it: the load drifts
    # less between neighbours than over the run.
    paired = statistics.median(r / p for r, p in zip(reference, placement, strict=True))
    print(
        f"database: {os.environ['DATABASE_URL'].split('@')[-1]}; {args.workers} worker "
        f"processes, {phase_size} grants per phase, {args.rounds} rounds, groups of "
        f"{args.size}, batch {args.batch}"
    )
    print("grant without placement (reference): " + ", ".join(f"{r:,.0f}" for r in reference))
    print("grant with placement:                " + ", ".join(f"{r:,.0f}" for r in placement))
    print(
        f"median: {place:,.0f} placements/s (target >= 100/s) vs {ref:,.0f} grants/s "
        f"without; placement costs {100 * (ref / place - 1):+.0f}% time per grant, "
        f"{100 * (paired - 1):+.0f}% by neighbouring phases (target <= +50%)"
    )
    print(
        f"students placed {placed}, groups {groups.count()} ({full} full), overfull "
        f"{overfull}, miscounted {miscounted}, students in two groups {twice}"
    )


if __name__ == "__main__":
    main()
