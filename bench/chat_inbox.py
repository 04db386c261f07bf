"""The moderators' inbox with many threads, on PostgreSQL, beside a bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/chat_inbox.py [--threads 10000] [--messages 10] [--runs 40]

Builds a fresh database next to DATABASE_URL's with --threads threads (half about tasks,
half to support; a third awaiting a reply, a tenth closed, the rest answered; a third
nobody's, the rest spread over five moderators) and --messages messages each (100,000 by
default), then renders through the full Django stack (test client, the moderator's
session) the inbox's first page, its "awaiting a reply" and "mine" tabs, a filtered page
deep in the list, a task thread's page and, for the cost of the page frame, the empty
saved replies page, alternating each request with the bare view (``bench/urls.py``:
constant JSON). Prints each page's query count and median (and p90)
time, the bare view's median, and their ratio. ``--threads 300`` shows the query counts
do not depend on the size.
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

STUDENTS = 5000
MODERATORS = 5
TASKS = 50


def build(threads: int, messages: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from parta.accounts.models import Role, User
    from parta.catalog.models import AnswerKind, Course, Task, Topic

    course = Course.objects.create(title="Алгебра", slug="algebra", is_published=True)
    other = Course.objects.create(title="Геометрия", slug="geometry", is_published=True)
    topic = Topic.objects.create(course=course, title="Дроби", position=0)
    Task.objects.bulk_create(
        Task(topic=topic, title=f"Задача {n}", position=n, statement="Сократите **6/8**.",
             kind=AnswerKind.TEXT, answer_text="3/4", solution="Разделите на 2.")
        for n in range(TASKS)
    )  # fmt: skip
    moderators = [
        User.objects.create_user(
            email=f"moderator{n}@example.com", full_name=f"Модератор {n}", role=Role.MODERATOR
        )
        for n in range(MODERATORS)
    ]
    students = min(STUDENTS, threads)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, email, full_name, phone, role,"
            " is_staff, is_active, language, created_at, updated_at)"
            " SELECT '!', false, 'student' || g || '@example.com', 'Ученик ' || g, '',"
            " 'student', false, true, '', now(), now() FROM generate_series(1, %s) g",
            [students],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_students AS SELECT row_number() OVER (ORDER BY id) - 1"
            " AS n, id FROM accounts_user WHERE role = 'student'"
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_tasks AS SELECT row_number() OVER (ORDER BY id) - 1"
            " AS n, id FROM catalog_task"
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_mods AS SELECT row_number() OVER (ORDER BY id) - 1"
            " AS n, id FROM accounts_user WHERE role = 'moderator'"
        )
        # Thread g: student g mod S; even ones are about task (g / S) mod TASKS (one
        # thread per student and task); state and assignee by g's residues; asked
        # (g mod 90 days) ago.
        cursor.execute(
            "INSERT INTO chat_thread (kind, student_id, task_id, course_id, subject, state,"
            " assignee_id, created_at)"
            " SELECT CASE WHEN g %% 2 = 0 THEN 'task' ELSE 'support' END, s.id,"
            " CASE WHEN g %% 2 = 0 THEN t.id END,"
            " CASE WHEN g %% 2 = 0 THEN %(course)s WHEN g %% 4 = 1 THEN %(other)s END,"
            " 'Вопрос ' || g,"
            " CASE WHEN g %% 3 = 0 THEN 'awaiting_moderator' WHEN g %% 10 = 1 THEN 'closed'"
            " ELSE 'awaiting_student' END,"
            " CASE WHEN g %% 3 = 2 THEN NULL ELSE m.id END,"
            " %(now)s - (g %% 129600) * interval '1 minute' - interval '1 day'"
            " FROM generate_series(0, %(threads)s - 1) g"
            " JOIN bench_students s ON s.n = g %% %(students)s"
            " JOIN bench_tasks t ON t.n = (g / %(students)s) %% %(tasks)s"
            " JOIN bench_mods m ON m.n = g %% %(mods)s",
            {
                "course": course.pk,
                "other": other.pk,
                "now": now,
                "threads": threads,
                "students": students,
                "tasks": TASKS,
                "mods": MODERATORS,
            },
        )
        # Messages alternate student / school, ten minutes apart; a thread awaiting a
        # reply ends with the student's.
        cursor.execute(
            "INSERT INTO chat_chatmessage (thread_id, author_id, from_staff, text, attachment,"
            " attachment_name, source, created_at)"
            " SELECT th.id,"
            " CASE WHEN staff THEN COALESCE(th.assignee_id, %(mod)s) ELSE th.student_id END,"
            " staff, 'Сообщение ' || k || ' в переписке ' || th.id, '', '', 'site',"
            " th.created_at + k * interval '10 minutes'"
            " FROM chat_thread th, generate_series(0, %(messages)s - 1) k,"
            " LATERAL (SELECT k %% 2 = 1 AND NOT (th.state = 'awaiting_moderator'"
            " AND k = %(messages)s - 1) AS staff) x",
            {"mod": moderators[0].pk, "messages": messages},
        )
        cursor.execute(
            "UPDATE chat_thread th SET last_message_at = a.last,"
            " last_student_message_at = a.student_last, last_staff_message_at = a.staff_last,"
            " waiting_since = CASE WHEN th.state = 'awaiting_moderator' THEN a.student_last END,"
            " closed_at = CASE WHEN th.state = 'closed' THEN a.last END"
            " FROM (SELECT thread_id, max(created_at) AS last,"
            " max(created_at) FILTER (WHERE NOT from_staff) AS student_last,"
            " max(created_at) FILTER (WHERE from_staff) AS staff_last"
            " FROM chat_chatmessage GROUP BY thread_id) a WHERE a.thread_id = th.id"
        )
        # The first moderator has looked at every other thread.
        cursor.execute(
            "INSERT INTO chat_threadseen (thread_id, user_id, seen_at)"
            " SELECT id, %s, last_message_at FROM chat_thread WHERE id %% 2 = 0",
            [moderators[0].pk],
        )
        cursor.execute(
            "INSERT INTO learning_submission (user_id, task_id, course_id, answer, is_correct,"
            " points, created_at) SELECT th.student_id, th.task_id, th.course_id,"
            " jsonb_build_object('text', 'ответ ' || k), false, 0,"
            " th.created_at - k * interval '1 minute'"
            " FROM chat_thread th, generate_series(1, 5) k WHERE th.kind = 'task'"
        )
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM chat_thread")
        thread_count = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM chat_chatmessage")
        message_count = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id FROM chat_thread WHERE kind = 'task' AND state = 'awaiting_moderator'"
            " ORDER BY waiting_since LIMIT 1"
        )
        task_thread = cursor.fetchone()[0]
    return {
        "moderator": moderators[0],
        "threads": thread_count,
        "messages": message_count,
        "task_thread": task_thread,
        "course": course,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=10, help="messages per thread")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = prepare_database("parta_bench_inbox", postgres_only=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    data = build(args.threads, args.messages)
    print(
        f"database: {os.environ['DATABASE_URL'].split('@')[-1]}; {data['threads']} threads, "
        f"{data['messages']} messages built in {time.perf_counter() - started:.1f}s"
    )

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(data["moderator"])
    pages = [
        ("inbox, first page", "/inbox/"),
        ("awaiting a reply", "/inbox/?show=waiting"),
        ("mine", "/inbox/?show=mine"),
        ("support, page 50", "/inbox/?kind=support&page=50"),
        (f"course {data['course'].slug}", f"/inbox/?course={data['course'].pk}"),
        ("a task thread", f"/inbox/threads/{data['task_thread']}/"),
        # The page frame alone (header, footer, an empty list): what any page costs here.
        ("empty saved replies", "/inbox/replies/"),
    ]
    bare_times: list[float] = []

    def timed(url: str) -> float:
        t0 = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, (url, response.status_code)
        return elapsed

    results = []
    for name, url in pages:
        timed(url)  # warm up
        queries: list[str] = []

        def count(run, sql, *rest, seen=queries):
            seen.append(sql)
            return run(sql, *rest)

        with connection.execute_wrapper(count):
            client.get(url)
        timings = []
        for _ in range(args.runs):
            bare_times.append(timed("/bench/bare/"))
            timings.append(timed(url))
        timings.sort()
        results.append((name, len(queries), timings))
    bare = statistics.median(bare_times)
    print(f"{'bare view':18s} median {bare:6.2f} ms  ({len(bare_times)} runs, alternating)")
    for name, queries, timings in results:
        median = statistics.median(timings)
        p90 = timings[int(len(timings) * 0.9) - 1]
        print(
            f"{name:18s} median {median:6.2f} ms  p90 {p90:6.2f} ms  queries {queries:2d}  "
            f"({median / bare:4.1f} x bare)"
        )


if __name__ == "__main__":
    main()
