from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import TaskFactory, TopicFactory
from parta.learning.models import DailyActivity, TaskProgress
from parta.news.digest import digest_send, last_week, weekly_figures
from parta.notifications.models import Message, Preference
from parta.notifications.rendering import render_message

pytestmark = pytest.mark.django_db

MOSCOW = ZoneInfo("Europe/Moscow")
# Monday 30 November 2026, 10:00 school time: the digest covers 23-29 November (W48).
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=MOSCOW)
EARLIER = MONDAY - timedelta(days=60)


def _day(user, course, day, *, solved, correct=None):
    DailyActivity.objects.create(
        user=user,
        course=course,
        day=day,
        tasks_solved=solved,
        correct_answers=solved if correct is None else correct,
    )


def _solve(user, task, when):
    TaskProgress.objects.create(
        user=user, task=task, course=task.topic.course, attempts=1, solved_at=when
    )


@pytest.fixture
def learner(course):
    user = UserFactory(email="tg@example.com", telegram_chat_id=555)
    AccessGrantFactory(user=user, course=course, starts_at=MONDAY - timedelta(days=60))
    # Last week: three days in a row up to Sunday, 4 tasks; the week before: 2 tasks.
    _day(user, course, date(2026, 11, 27), solved=1)
    _day(user, course, date(2026, 11, 28), solved=2)
    _day(user, course, date(2026, 11, 29), solved=1)
    _day(user, course, date(2026, 11, 21), solved=1)
    _day(user, course, date(2026, 11, 22), solved=1)
    _day(user, course, date(2026, 11, 19), solved=0, correct=0)  # wrong answers only
    # Topic A done last week (its last task on the 28th), B the week before, C not yet.
    a = TopicFactory(course=course, title="A")
    a1, a2 = TaskFactory(topic=a), TaskFactory(topic=a)
    _solve(user, a1, datetime(2026, 11, 21, 12, tzinfo=MOSCOW))
    _solve(user, a2, datetime(2026, 11, 28, 12, tzinfo=MOSCOW))
    b = TopicFactory(course=course, title="B")
    _solve(user, TaskFactory(topic=b), datetime(2026, 11, 20, 12, tzinfo=MOSCOW))
    c = TopicFactory(course=course, title="C")
    _solve(user, TaskFactory(topic=c), datetime(2026, 11, 27, 12, tzinfo=MOSCOW))
    TaskFactory(topic=c)
    return user


def test_last_week_is_the_school_calendar_week_before():
    week = last_week(MONDAY)
    assert (week.start, week.end, week.label) == (
        date(2026, 11, 23),
        date(2026, 11, 29),
        "2026-W48",
    )
    # 00:30 on Monday in Moscow is still Sunday in UTC: the school's calendar decides.
    assert last_week(datetime(2026, 11, 30, 0, 30, tzinfo=MOSCOW)).label == "2026-W48"
    assert last_week(datetime(2026, 11, 29, 23, 30, tzinfo=MOSCOW)).label == "2026-W47"
    assert last_week(datetime(2027, 1, 4, 10, tzinfo=MOSCOW)).label == "2026-W53"


def test_figures_on_hand_built_data(learner, course):
    [figures] = weekly_figures(user_ids=[learner.pk], week=last_week(MONDAY), now=MONDAY)[
        learner.pk
    ]
    assert figures.title == "Algebra"
    assert (figures.tasks_solved, figures.tasks_solved_before) == (4, 2)
    assert (figures.streak, figures.streak_before) == (3, 2)
    assert (figures.topics_done, figures.topics_done_before) == (1, 1)


def test_who_gets_it_and_on_which_channel(learner, course, other_course):
    email_only = UserFactory(email="mail@example.com")
    AccessGrantFactory(user=email_only, course=course, starts_at=EARLIER)
    Preference.objects.create(user=email_only, kind="weekly_digest", channel="email", enabled=True)
    quiet = UserFactory(email="quiet@example.com")  # no Telegram, email not opted in
    AccessGrantFactory(user=quiet, course=course, starts_at=EARLIER)
    muted = UserFactory(email="muted@example.com", telegram_chat_id=777)
    AccessGrantFactory(user=muted, course=course, starts_at=EARLIER)
    Preference.objects.create(user=muted, kind="weekly_digest", channel="telegram", enabled=False)
    UserFactory(email="nocourse@example.com", telegram_chat_id=888)
    blocked = UserFactory(email="blocked@example.com", telegram_chat_id=999)
    blocked.telegram_blocked_at = MONDAY
    blocked.save()
    AccessGrantFactory(user=blocked, course=course, starts_at=EARLIER)

    assert digest_send(now=MONDAY) == 2
    rows = set(Message.objects.filter(kind="weekly_digest").values_list("user__email", "channel"))
    assert rows == {("tg@example.com", "telegram"), ("mail@example.com", "email")}
    assert set(Message.objects.values_list("dedup_key", flat=True)) == {"digest:2026-W48"}


def test_reruns_store_nothing_new_and_next_week_is_new(learner):
    digest_send(now=MONDAY)
    digest_send(now=MONDAY)
    digest_send(now=MONDAY + timedelta(hours=5))
    assert Message.objects.filter(user=learner).count() == 1
    digest_send(now=MONDAY + timedelta(days=7))
    assert list(
        Message.objects.filter(user=learner).order_by("id").values_list("dedup_key", flat=True)
    ) == ["digest:2026-W48", "digest:2026-W49"]


def test_the_digest_reads_well_in_russian_and_english(learner):
    digest_send(now=MONDAY)
    row = Message.objects.get(user=learner)
    learner.language = "ru"
    russian = render_message(user=learner, kind="weekly_digest", context=row.context)
    assert "23 ноября" in russian.subject
    assert "Algebra" in russian.text
    assert "3 дня" in russian.text
    learner.language = "en"
    english = render_message(user=learner, kind="weekly_digest", context=row.context)
    assert "Tasks solved: 4 (2)" in english.text
    assert "3 days" in english.text


def test_the_beat_runs_it_on_mondays_at_ten_school_time():
    from config.celery import app

    entry = app.conf.beat_schedule["news-weekly-digest"]
    assert entry["task"] == "news.weekly_digest"
    schedule = entry["schedule"]
    schedule.app = app
    assert str(app.timezone) == "Europe/Moscow"
    last_run = datetime(2026, 11, 23, 10, 0, tzinfo=MOSCOW)
    schedule.nowfun = lambda: datetime(2026, 11, 30, 6, 59, tzinfo=UTC)  # 09:59 in Moscow
    due, _next = schedule.is_due(last_run)
    assert not due
    assert schedule.remaining_estimate(last_run) == timedelta(minutes=1)
    schedule.nowfun = lambda: datetime(2026, 11, 30, 7, 0, 30, tzinfo=UTC)  # 10:00:30
    due, _next = schedule.is_due(last_run)
    assert due


def test_beat_sends_the_digest_on_mondays_at_ten_school_time_by_default(settings):
    # PARTA_DIGEST_EVERY (seconds) replaces it with an interval: test_celery_worker.py.
    from celery.schedules import crontab

    schedule = settings.CELERY_BEAT_SCHEDULE["news-weekly-digest"]["schedule"]
    assert isinstance(schedule, crontab)
    assert (schedule.minute, schedule.hour, schedule.day_of_week) == ({0}, {10}, {1})
    assert settings.CELERY_TIMEZONE == "Europe/Moscow"
