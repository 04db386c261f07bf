"""The weekly digest: every Monday (10:00 school time, see config/settings/celery.py) each
student with a linked Telegram, or who turned the digest on for email, gets last week's
figures per course they have: tasks solved, streak and topics done, beside the week
before's. Once per person and ISO week: the dedup key ``digest:<year>-W<week>`` makes a
rerun store nothing new.

The figures come from learning's rows (DailyActivity per day, TaskProgress per task) and
its streak rule, read in batches of students with a fixed number of queries per batch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from parta.accounts.models import Role, User
from parta.catalog.models import Course, Topic
from parta.common.time import school_day
from parta.learning.models import DailyActivity, TaskProgress
from parta.learning.selectors import streak_from_days
from parta.news.selectors import active_grants
from parta.notifications.channels.base import Channel
from parta.notifications.models import Preference
from parta.notifications.services import notify

KIND = "weekly_digest"
BATCH_SIZE = 500
# How far back a streak is followed (a longer one reads as this long).
STREAK_LOOKBACK_DAYS = 400


@dataclass(frozen=True)
class Week:
    start: date  # Monday
    iso_year: int
    number: int

    @property
    def end(self) -> date:  # Sunday
        return self.start + timedelta(days=6)

    @property
    def before(self) -> Week:
        return week_of(self.start - timedelta(days=7))

    @property
    def label(self) -> str:
        return f"{self.iso_year}-W{self.number:02d}"

    @property
    def dedup_key(self) -> str:
        return f"digest:{self.label}"

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


def week_of(day: date) -> Week:
    iso = day.isocalendar()
    return Week(start=day - timedelta(days=day.weekday()), iso_year=iso.year, number=iso.week)


def last_week(now: datetime | None = None) -> Week:
    """The school-calendar week before the one ``now`` falls in."""
    today = school_day(now or timezone.now())
    return week_of(today - timedelta(days=7))


@dataclass
class CourseWeek:
    course_id: int
    title: str
    tasks_solved: int = 0
    tasks_solved_before: int = 0
    streak: int = 0
    streak_before: int = 0
    topics_done: int = 0
    topics_done_before: int = 0


def _channels(users: list[User]) -> dict[int, list[Channel]]:
    """Telegram for linked, reachable people who did not turn it off; email for those
    who turned it on (it is off by default)."""
    choices = {
        (user_id, channel): enabled
        for user_id, channel, enabled in Preference.objects.filter(
            user__in=users, kind=KIND
        ).values_list("user_id", "channel", "enabled")
    }
    result = {}
    for user in users:
        channels = []
        if user.telegram_reachable and choices.get((user.pk, Channel.TELEGRAM), True):
            channels.append(Channel.TELEGRAM)
        if user.email and choices.get((user.pk, Channel.EMAIL), False):
            channels.append(Channel.EMAIL)
        if channels:
            result[user.pk] = channels
    return result


def weekly_figures(
    *, user_ids: list[int], week: Week, now: datetime | None = None
) -> dict[int, list[CourseWeek]]:
    """Per student, the courses they have now and their figures for ``week`` and the one
    before. Five queries for the whole batch."""
    now = now or timezone.now()
    before = week.before
    owned: dict[int, set[int]] = defaultdict(set)
    for user_id, course_id in (
        active_grants(now=now)
        .filter(user_id__in=user_ids, course__is_published=True)
        .values_list("user_id", "course_id")
        .distinct()
    ):
        owned[user_id].add(course_id)
    course_ids = {course_id for ids in owned.values() for course_id in ids}
    if not course_ids:
        return {}
    titles = dict(
        Course.objects.filter(pk__in=course_ids)
        .order_by("position", "id")
        .values_list("id", "title")
    )
    order = {course_id: i for i, course_id in enumerate(titles)}
    figures = {
        (user_id, course_id): CourseWeek(course_id=course_id, title=titles[course_id])
        for user_id, ids in owned.items()
        for course_id in ids
    }

    # Tasks solved per week, and the days with a correct answer (the streak).
    active_days: dict[tuple[int, int], list[date]] = defaultdict(list)
    for user_id, course_id, day, solved, correct in (
        DailyActivity.objects.filter(
            user_id__in=user_ids,
            course_id__in=course_ids,
            day__lte=week.end,
            day__gte=week.end - timedelta(days=STREAK_LOOKBACK_DAYS),
        )
        .order_by("-day")
        .values_list("user_id", "course_id", "day", "tasks_solved", "correct_answers")
    ):
        entry = figures.get((user_id, course_id))
        if entry is None:
            continue
        if day in week:
            entry.tasks_solved += solved
        elif day in before:
            entry.tasks_solved_before += solved
        if correct:
            active_days[(user_id, course_id)].append(day)
    for key, days in active_days.items():
        figures[key].streak = streak_from_days(days, week.end)
        figures[key].streak_before = streak_from_days(
            [day for day in days if day <= before.end], before.end
        )

    # A topic is done when its last task (outside tests) is solved; it counts in the
    # week of that last solve.
    topic_tasks = dict(
        Topic.objects.filter(course_id__in=course_ids)
        .annotate(n=Count("tasks", filter=Q(tasks__test__isnull=True)))
        .filter(n__gt=0)
        .values_list("id", "n")
    )
    solved: dict[tuple[int, int, int], list[datetime]] = defaultdict(list)
    for user_id, course_id, topic_id, solved_at in TaskProgress.objects.filter(
        user_id__in=user_ids,
        course_id__in=course_ids,
        solved_at__isnull=False,
        task__test__isnull=True,
    ).values_list("user_id", "course_id", "task__topic_id", "solved_at"):
        solved[(user_id, course_id, topic_id)].append(solved_at)
    for (user_id, course_id, topic_id), moments in solved.items():
        entry = figures.get((user_id, course_id))
        if entry is None or len(moments) < topic_tasks.get(topic_id, 0) or not moments:
            continue
        if topic_id not in topic_tasks:
            continue
        done_day = school_day(max(moments))
        if done_day in week:
            entry.topics_done += 1
        elif done_day in before:
            entry.topics_done_before += 1

    result: dict[int, list[CourseWeek]] = defaultdict(list)
    for (user_id, _course_id), entry in sorted(
        figures.items(), key=lambda item: (item[0][0], order[item[0][1]])
    ):
        result[user_id].append(entry)
    return dict(result)


def digest_send(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Store last week's digest for everyone who gets it; how many people were told
    (a rerun tells the same people again and stores nothing new)."""
    now = now or timezone.now()
    week = last_week(now)
    told = 0
    last_id = 0
    students = User.objects.filter(role=Role.STUDENT, is_active=True).filter(
        Q(telegram_chat_id__isnull=False, telegram_blocked_at__isnull=True)
        | Q(
            notification_preferences__kind=KIND,
            notification_preferences__channel=Channel.EMAIL,
            notification_preferences__enabled=True,
        )
    )
    while True:
        users = list(
            students.filter(pk__gt=last_id)
            .distinct()
            .only("id", "email", "telegram_chat_id", "telegram_blocked_at")
            .order_by("pk")[:batch_size]
        )
        if not users:
            return told
        last_id = users[-1].pk
        channels = _channels(users)
        figures = weekly_figures(user_ids=list(channels), week=week, now=now)
        context_week = {
            "week": week.label,
            "week_start": week.start.isoformat(),
            "week_end": week.end.isoformat(),
        }
        with transaction.atomic():
            for user in users:
                courses = figures.get(user.pk)
                if not courses or user.pk not in channels:
                    continue
                notify(
                    user=user,
                    kind=KIND,
                    context={**context_week, "courses": [asdict(c) for c in courses]},
                    dedup_key=week.dedup_key,
                    channels=channels[user.pk],
                )
                told += 1
