"""Course page and statistics page for a large course and a long history.

    .venv/bin/python bench/course_page.py [--topics 50] [--tasks 20] [--submissions 10000]

Builds a course of 50 topics x 20 tasks (plus two lessons a topic) and a student with
10,000 submissions over a year, then renders the course page and the statistics page
through the full Django stack (test client, session login) 40 times each and prints the
median and p90 render time and the query count. DATABASE_URL selects PostgreSQL (a fresh
database next to it); otherwise a temporary SQLite file.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import prepare_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = prepare_database("parta_bench_course")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from parta.access.models import AccessGrant, GrantSource
    from parta.accounts.models import User
    from parta.catalog.models import AnswerKind, Course, Lesson, Task, Topic
    from parta.common.time import school_day
    from parta.learning.models import DailyActivity, Submission, TaskProgress

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    student = User.objects.create_user(email="bench@example.com", full_name="Bench Student")
    course = Course.objects.create(title="Bench course", slug="bench", is_published=True)
    AccessGrant.objects.create(
        user=student,
        course=course,
        source=GrantSource.MANUAL,
        starts_at=timezone.now() - timedelta(days=400),
    )
    topics = Topic.objects.bulk_create(
        Topic(course=course, title=f"Topic {i}", position=i) for i in range(args.topics)
    )
    Lesson.objects.bulk_create(
        Lesson(topic=t, title=f"Lesson {t.position}.{j}", position=j, body="Text")
        for t in topics
        for j in range(2)
    )
    tasks = Task.objects.bulk_create(
        Task(topic=t, title=f"Task {t.position}.{j}", position=j, statement="2+2?",
             kind=AnswerKind.NUMBER, answer_number=4)
        for t in topics
        for j in range(args.tasks)
    )  # fmt: skip
    rng = random.Random(7)
    now = timezone.now()
    subs, progress, days = [], {}, {}
    for _i in range(args.submissions):
        task = rng.choice(tasks)
        moment = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        correct = rng.random() < 0.6
        subs.append(
            Submission(user=student, task=task, course=course, answer={"number": "4"},
                       is_correct=correct, points=int(correct), created_at=moment)
        )  # fmt: skip
        p = progress.setdefault(task.id, {"attempts": 0, "wrong": 0, "solved": None})
        p["attempts"] += 1
        p["wrong"] += 0 if correct else 1
        if correct and (p["solved"] is None or moment < p["solved"]):
            p["solved"] = moment
        if correct:
            d = days.setdefault(school_day(moment), [0, 0])
            d[0] += 1
    Submission.objects.bulk_create(subs, batch_size=2000)
    for p in progress.values():
        if p["solved"]:
            days[school_day(p["solved"])][1] += 1
    TaskProgress.objects.bulk_create(
        TaskProgress(user=student, task_id=tid, course=course, attempts=p["attempts"],
                     wrong_attempts=p["wrong"], solved_at=p["solved"], last_answer_at=now)
        for tid, p in progress.items()
    )  # fmt: skip
    DailyActivity.objects.bulk_create(
        DailyActivity(user=student, course=course, day=day, correct_answers=c, tasks_solved=s)
        for day, (c, s) in days.items()
    )
    from django.db import connection as db

    with db.cursor() as cursor:
        # Fresh bulk-loaded tables have no planner statistics yet; autovacuum would
        # gather them soon after in production, so gather them now.
        cursor.execute("ANALYZE")
    print(
        f"database: {os.environ['DATABASE_URL'].split('@')[-1]}; built {len(topics)} topics, "
        f"{len(tasks)} tasks, {len(subs)} submissions in {time.perf_counter() - started:.1f}s"
    )

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(student)
    for name, url in (("course page", f"/courses/{course.slug}/"), ("statistics", "/stats/")):
        assert client.get(url).status_code == 200
        queries: list[str] = []

        def count(run, sql, *rest, seen=queries):
            seen.append(sql)
            return run(sql, *rest)

        with connection.execute_wrapper(count):
            client.get(url)
        timings = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        timings.sort()
        print(
            f"{name:12s} median {statistics.median(timings):6.1f} ms  "
            f"p90 {timings[int(len(timings) * 0.9) - 1]:6.1f} ms  "
            f"queries {len(queries)}  ({len(response.content) // 1024} KiB)"
        )
    print("targets: median < 50 ms, queries <= 12")


if __name__ == "__main__":
    main()
