"""The moderators' list of students on PostgreSQL: first page and a search, with N
students (every second one active on 10 days) and a third of them with access.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/students_page.py [--students 100000]

Prints the median time of the selector (count, page and course counts: three queries)
over 5 runs.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=100_000)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = prepare_database("parta_bench_students", postgres_only=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from parta.catalog.models import Course
    from parta.learning.selectors import student_directory

    call_command("migrate", verbosity=0)
    course = Course.objects.create(title="Bench", slug="bench", is_published=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, email, full_name, phone, role,"
            " is_staff, is_active, created_at, updated_at)"
            " SELECT '!', false, 'student' || g || '@example.com', 'Student ' || g, '',"
            " 'student', false, true, now(), now() FROM generate_series(1, %s) g",
            [args.students],
        )
        cursor.execute(
            "INSERT INTO learning_dailyactivity (user_id, course_id, day, correct_answers,"
            " tasks_solved) SELECT u.id, %s, current_date - (d * 3 + (u.id %% 3))::int, 2, 1"
            " FROM accounts_user u, generate_series(0, 9) d WHERE u.id %% 2 = 0",
            [course.id],
        )
        cursor.execute(
            "INSERT INTO access_accessgrant (created_at, updated_at, user_id, course_id, source,"
            " starts_at, is_active, note, reference, freeze_limit_days, frozen_days)"
            " SELECT now(), now(), u.id, %s, 'manual', now() - interval '1 day', true, '', '',"
            " 0, 0 FROM accounts_user u WHERE u.id %% 3 = 0",
            [course.id],
        )
        cursor.execute("ANALYZE")
    print(
        f"database: {os.environ['DATABASE_URL'].split('@')[-1]}; {args.students} students "
        f"built in {time.perf_counter() - started:.1f}s"
    )
    for label, search in (("first page", ""), ("search", "Student 123")):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            page = student_directory(search=search)
            rows = list(page.object_list)
            found = page.paginator.count
            times.append(time.perf_counter() - started)
        print(
            f"{label:10s} median {statistics.median(times) * 1000:6.1f} ms  "
            f"({found} matching, {len(rows)} shown)"
        )


if __name__ == "__main__":
    main()
