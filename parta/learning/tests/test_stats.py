from datetime import UTC, date, datetime, timedelta

import pytest

from parta.catalog.tests.factories import TaskFactory, TestFactory
from parta.common.time import school_day
from parta.learning.models import DailyActivity
from parta.learning.selectors import course_stats, streak_from_days
from parta.learning.services import task_answer_submit

TODAY = date(2026, 11, 22)


def _days(*offsets):
    return [TODAY - timedelta(days=o) for o in offsets]


@pytest.mark.parametrize(
    ("days", "streak"),
    [
        ([], 0),
        (_days(0), 1),
        (_days(0, 1, 2), 3),
        (_days(1, 2), 2),  # today not yet answered: the streak lives on until midnight
        (_days(2, 3), 0),  # yesterday missed: broken
        (_days(0, 1, 3, 4), 2),
    ],
)
def test_streak_from_days(days, streak):
    assert streak_from_days(days, TODAY) == streak


def test_school_day_follows_the_school_time_zone(settings):
    moment = datetime(2026, 11, 21, 22, 30, tzinfo=UTC)  # 01:30 on the 22nd in Moscow
    settings.PARTA_TIME_ZONE = "Europe/Moscow"
    assert school_day(moment) == date(2026, 11, 22)
    settings.PARTA_TIME_ZONE = "America/New_York"
    assert school_day(moment) == date(2026, 11, 21)


@pytest.mark.django_db
def test_answers_around_midnight_fall_on_school_days(settings, monkeypatch, student, topic):
    settings.PARTA_TIME_ZONE = "Asia/Vladivostok"  # UTC+10
    student.access_grants.update(starts_at=datetime(2026, 1, 1, tzinfo=UTC))
    tasks = [TaskFactory(topic=topic) for _ in range(3)]
    moments = [
        datetime(2026, 11, 20, 13, 59, tzinfo=UTC),  # 23:59 on the 20th in Vladivostok
        datetime(2026, 11, 20, 14, 1, tzinfo=UTC),  # 00:01 on the 21st
        datetime(2026, 11, 21, 13, 0, tzinfo=UTC),  # 23:00 on the 21st
    ]
    for task, moment in zip(tasks, moments, strict=True):
        monkeypatch.setattr("parta.learning.services.timezone.now", lambda m=moment: m)
        task_answer_submit(user=student, task=task, data={"answer": "42"})
    days = dict(DailyActivity.objects.values_list("day", "tasks_solved"))
    assert days == {date(2026, 11, 20): 1, date(2026, 11, 21): 2}

    monkeypatch.setattr(
        "parta.learning.selectors.school_today", lambda: date(2026, 11, 22)
    )  # the 22nd, nothing yet
    stats = course_stats(user=student, course=topic.course)
    assert stats.streak == 2
    assert stats.tasks_solved == 3
    assert stats.last_solved.task_id == tasks[2].id


@pytest.mark.django_db
def test_course_stats_counts(student, course, topic):
    done = [TaskFactory(topic=topic) for _ in range(2)]
    other_topic_task = TaskFactory(topic__course=course)
    TaskFactory(test=TestFactory(topic=topic))  # test tasks are not standalone tasks
    for task in done:
        task_answer_submit(user=student, task=task, data={"answer": "42"})
    task_answer_submit(user=student, task=other_topic_task, data={"answer": "0"})

    stats = course_stats(user=student, course=course)
    assert (stats.topics_done, stats.topics_total) == (1, 2)
    assert (stats.tasks_solved, stats.tasks_total) == (2, 3)
    assert stats.streak == 1
    assert len(stats.activity) == 90
    assert stats.activity[-1][1] == 2
    assert sum(stats.activity_values) == 2


@pytest.mark.django_db
def test_stats_query_count_does_not_grow_with_history(
    student, course, topic, django_assert_num_queries
):
    tasks = [TaskFactory(topic=topic) for _ in range(3)]
    for task in tasks:
        task_answer_submit(user=student, task=task, data={"answer": "1"})
    with django_assert_num_queries(5) as few:
        course_stats(user=student, course=course)
    more = [TaskFactory(topic=topic) for _ in range(20)]
    for task in more:
        for answer in ("1", "42"):
            task_answer_submit(user=student, task=task, data={"answer": answer})
    DailyActivity.objects.bulk_create(
        DailyActivity(user=student, course=course, day=date(2026, 1, 1) + timedelta(days=i),
                      correct_answers=1, tasks_solved=1)
        for i in range(200)
    )  # fmt: skip
    with django_assert_num_queries(len(few.captured_queries)):
        course_stats(user=student, course=course)


@pytest.mark.django_db
def test_chart_days_read_in_the_viewers_language(student, course):
    from datetime import date

    from django.utils import translation

    from parta.learning.selectors import CourseStats

    stats = course_stats(user=student, course=course)
    assert isinstance(stats, CourseStats)
    stats.activity = [(date(2026, 12, 3), 1), (date(2026, 5, 9), 2)]
    with translation.override("ru"):
        assert stats.activity_labels == ["3 дек", "9 мая"]
    with translation.override("en"):
        assert stats.activity_labels == ["Dec 3", "May 9"]


@pytest.mark.django_db
def test_stats_page_chart_labels_are_not_iso(client, student, course, task):
    import json
    import re

    from django.urls import reverse

    task_answer_submit(user=student, task=task, data={"answer": "42"})
    client.force_login(student)
    html = client.get(reverse("learning:my-stats")).content.decode()
    labels = json.loads(
        re.search(r'<script id="activity-labels"[^>]*>(.*?)</script>', html).group(1)
    )
    assert len(labels) == 90
    assert not any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", label) for label in labels)
    assert re.fullmatch(r"\d{1,2} [а-я]{3}", labels[-1])
    # The API keeps ISO dates for programs.
    api = client.get(reverse("api:my-stats", args=[course.id])).json()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", api["activity"][-1]["day"])
