"""The CRM dashboard for 90 days on a school of a year's size, on PostgreSQL, beside a
bare view through the same middleware.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/crm_dashboard.py [--clients 100000] [--grants 300000] \\
        [--entries 1000000] [--runs 15] [--explain]

Builds, in its own database (parta_bench_dash), with INSERT ... SELECT generate_series:
``--clients`` students registered over the last year, ``--grants`` grants to 20 courses
(30-day plans one after another, so most are followed by a renewal), one rouble account
each (and a dollar account for every tenth), ``--entries`` ledger entries over the year
(top-ups, spendings, refunds both ways, corrections), a day of activity for every
client on three days, and 60 study groups. Then the median of ``--runs`` requests of
``/crm/?preset=90`` and of ``/api/v1/crm/dashboard/?preset=90`` as staff, alternating
with the bare view (``bench/urls.py``: constant JSON) as the reference, with
os.getloadavg(). ``--explain`` prints EXPLAIN ANALYZE of each of the dashboard's
queries (plan outline and time).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import prepare_database  # noqa: E402

COURSES = 20


def build(clients: int, grants: int, entries: int) -> None:
    from django.db import connection

    from parta.catalog.models import Course
    from parta.groups.models import Group

    courses = Course.objects.bulk_create(
        Course(title=f"Курс {n}", slug=f"course-{n}", is_published=True, max_group_size=25)
        for n in range(1, COURSES + 1)
    )
    Group.objects.bulk_create(
        Group(course=course, number=n, members_count=(course.pk * 7 + n * 3) % 26)
        for course in courses
        for n in range(1, 4)
    )
    with connection.cursor() as cursor:
        # Students registered evenly over the last 365 days.
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, email, full_name, phone, role,"
            " is_staff, is_active, created_at, updated_at, language)"
            " SELECT '!', false, 'client' || g || '@example.com', 'Клиент ' || g, '',"
            " 'student', false, true, now() - (g * interval '365 days') / %s, now(), ''"
            " FROM generate_series(1, %s) g",
            [clients, clients],
        )
        # Grants: 30-day plans back to back per client and course, the chains ending on
        # any of the last 300 days (so about a tenth are still on).
        cursor.execute(
            "WITH c AS (SELECT array_agg(id ORDER BY id) ids FROM catalog_course),"
            " u AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM accounts_user"
            "       WHERE role = 'student'),"
            " g AS (SELECT g - 1 AS k FROM generate_series(1, %s) g)"
            " INSERT INTO access_accessgrant (created_at, updated_at, user_id, course_id,"
            " source, starts_at, available_until, is_active, note, reference,"
            " freeze_limit_days, frozen_days)"
            " SELECT s, s, u.id, c.ids[1 + (u.id %% %s)], 'plan', s, s + interval '30 days',"
            " s + interval '30 days' > now(), '', 'bench:' || g.k, 7, 0"
            " FROM g JOIN u ON u.n = g.k %% %s CROSS JOIN c,"
            " LATERAL (SELECT now() - interval '1 day' * ((u.id * 13) %% 300)"
            "          - interval '30 days' * (g.k / %s)"
            "          - interval '1 hour' * (u.id %% 24) AS s) t",
            [grants, COURSES, clients, clients],
        )
        cursor.execute(
            "INSERT INTO billing_balanceaccount (user_id, currency, balance, held)"
            " SELECT id, 'RUB', 0, 0 FROM accounts_user WHERE role = 'student'"
            " UNION ALL SELECT id, 'USD', 0, 0 FROM accounts_user"
            " WHERE role = 'student' AND id % 10 = 0"
        )
        # Entries over the year: 40% top-ups, 40% spendings, 8% refunds to the balance,
        # 4% refunds out (to the card), 8% corrections.
        cursor.execute(
            "WITH a AS (SELECT array_agg(id ORDER BY id) ids, count(*) n FROM"
            " billing_balanceaccount)"
            " INSERT INTO billing_ledgerentry (account_id, kind, amount, balance_after,"
            " reference, description, created_at)"
            " SELECT a.ids[1 + (g::bigint * 7919) %% a.n],"
            " CASE WHEN g %% 25 < 10 THEN 'topup' WHEN g %% 25 < 20 THEN 'spending'"
            "      WHEN g %% 25 < 23 THEN 'refund' ELSE 'adjustment' END,"
            " CASE WHEN g %% 25 < 10 THEN 100000 + g %% 900000"
            "      WHEN g %% 25 < 20 THEN -(99000 + g %% 5000)"
            "      WHEN g %% 25 < 22 THEN 50000 + g %% 1000"
            "      WHEN g %% 25 < 23 THEN -(50000 + g %% 1000)"
            "      ELSE 777 END,"
            " 1000000, 'bench:' || g, '', now() - (g * interval '365 days') / %s"
            " FROM generate_series(1, %s) g, a",
            [entries, entries],
        )
        cursor.execute(
            "INSERT INTO learning_dailyactivity (user_id, course_id, day, correct_answers,"
            " tasks_solved) SELECT u.id, (SELECT min(id) FROM catalog_course) + u.id %% %s,"
            " current_date - ((u.id * 37 + d * 31) %% 365)::int, 3, 2"
            " FROM accounts_user u, generate_series(0, 2) d WHERE u.role = 'student'"
            " ON CONFLICT DO NOTHING",
            [COURSES],
        )
        # A year-old database has been vacuumed: index-only scans see the visibility map.
        cursor.execute("VACUUM ANALYZE")


def explain(staff) -> None:
    from django.db import connection

    from parta.common.time import school_today
    from parta.crm.dashboard import dashboard_data, period_for

    period = period_for(preset="90", today=school_today())
    statements: list[tuple[str, tuple]] = []

    def keep(run, sql, params, many, context):
        statements.append((sql, params))
        return run(sql, params, many, context)

    with connection.execute_wrapper(keep):
        dashboard_data(start=period.start, end=period.end, money=True)
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
            print("\n" + sql[:160] + " ...")
            for line in plan:
                if any(
                    key in line
                    for key in ("Scan", "Join", "Aggregate", "Execution Time", "Sort  ")
                ):
                    print("   ", line.strip()[:150])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--grants", type=int, default=300_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = prepare_database("parta_bench_dash", postgres_only=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from parta.accounts.models import Role, User

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build(args.clients, args.grants, args.entries)
    print(
        f"database: {os.environ['DATABASE_URL'].split('@')[-1]}; {args.clients} clients, "
        f"{args.grants} grants, {args.entries} ledger entries built in "
        f"{time.perf_counter() - started:.1f}s"
    )
    staff = User.objects.create_user(
        email="owner@example.com", full_name="Владелец", role=Role.STAFF, is_staff=True
    )
    if args.explain:
        explain(staff)

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(staff)

    def timed(url: str) -> float:
        t0 = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, (url, response.status_code)
        return elapsed

    urls = [
        ("page /crm/?preset=90", "/crm/?preset=90"),
        ("API 90 days", "/api/v1/crm/dashboard/?preset=90"),
    ]
    bare_times: list[float] = []
    results = []
    for name, url in urls:
        timed(url)  # warm up
        timings = []
        for _ in range(args.runs):
            bare_times.append(timed("/bench/bare/"))
            timings.append(timed(url))
        results.append((name, sorted(timings)))
    load = os.getloadavg()
    bare = statistics.median(bare_times)
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores)")
    print(f"{'bare view':22s} median {bare:7.2f} ms  ({len(bare_times)} runs, alternating)")
    for name, timings in results:
        median = statistics.median(timings)
        p90 = timings[int(len(timings) * 0.9) - 1]
        verdict = "ok" if median < 300 else "ABOVE the 300 ms target"
        print(
            f"{name:22s} median {median:7.2f} ms  p90 {p90:7.2f} ms  "
            f"({median / bare:5.1f} x bare)  {verdict}"
        )


if __name__ == "__main__":
    main()
