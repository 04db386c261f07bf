"""Reads for learning: what a student sees of a course, solutions, statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import pgettext

from parta.access.models import AccessFreeze, AccessGrant
from parta.access.selectors import AccessDecision, access_check, is_staff_like
from parta.accounts.models import Role, User
from parta.accounts.phone import phone_search_digits
from parta.catalog.models import (
    AnswerKind,
    Course,
    Lesson,
    SolutionVisibility,
    Task,
    TaskChoice,
    Test,
    Topic,
)
from parta.common.time import school_today
from parta.learning.models import DailyActivity, Submission, TaskProgress, TestAttempt

ACTIVITY_DAYS = 90


def solution_visible(*, task: Task, progress: TaskProgress | None, staff: bool = False) -> bool:
    """Whether the task's solution may be shown to this student now."""
    if not task.solution.strip():
        return False
    if staff:
        return True
    rule = task.solution_visibility
    solved = progress is not None and progress.is_solved
    if rule == SolutionVisibility.ALWAYS:
        return True
    if rule == SolutionVisibility.AFTER_SOLVED:
        return solved
    if rule == SolutionVisibility.AFTER_ATTEMPTS:
        attempts = progress.attempts if progress else 0
        return solved or attempts >= task.solution_after_attempts
    return False


def _number_text(value) -> str:
    number = Decimal(str(value)).normalize()
    return number_format(Decimal(format(number, "f")))


def answer_text(*, answer: dict | None, choices: list[TaskChoice]) -> str:
    """A stored answer as the student reads it: the text, the number or the options."""
    if not answer:
        return ""
    if "text" in answer:
        return str(answer["text"])
    if "number" in answer:
        return _number_text(answer["number"])
    by_id = {choice.id: choice.text for choice in choices}
    ids = [answer["choice"]] if "choice" in answer else list(answer.get("choices", []))
    return "; ".join(by_id.get(choice_id, "?") for choice_id in ids)


def correct_answer_text(*, task: Task, choices: list[TaskChoice]) -> str:
    """The key as a person reads it. Only for pages that already decided the rule lets
    this student see it (see ``attempt_solution_visible``)."""
    if task.kind == AnswerKind.TEXT:
        return next((line.strip() for line in task.answer_text.splitlines() if line.strip()), "")
    if task.kind == AnswerKind.NUMBER:
        if task.answer_number is None:
            return ""
        text = _number_text(task.answer_number)
        if task.tolerance:
            text += " ± " + _number_text(task.tolerance)
        return text
    return "; ".join(choice.text for choice in choices if choice.is_correct)


def accepted_answer(*, user: User, task: Task, choices: list[TaskChoice]) -> str:
    """The answer that solved the task (the first correct one), as the student wrote it."""
    first = (
        Submission.objects.filter(user=user, task=task, is_correct=True)
        .order_by("created_at", "id")
        .only("answer")
        .first()
    )
    return answer_text(answer=first.answer, choices=choices) if first else ""


def attempt_key_visible(*, task: Task, attempt: TestAttempt | None, staff: bool = False) -> bool:
    """The correct answer of a test task is shown on the same terms as its solution,
    except that it needs no written solution: after submission, unless the rule says
    "never"."""
    if staff:
        return True
    if attempt is None or not attempt.is_submitted:
        return False
    return task.solution_visibility != SolutionVisibility.NEVER


def attempt_solution_visible(
    *, task: Task, attempt: TestAttempt | None, staff: bool = False
) -> bool:
    """Inside a test, solutions stay hidden until the attempt is submitted; then every
    rule but "never" shows them (the one attempt is used up)."""
    if not task.solution.strip():
        return False
    if staff:
        return True
    if attempt is None or not attempt.is_submitted:
        return False
    return task.solution_visibility != SolutionVisibility.NEVER


# --- A course as one student sees it ------------------------------------------------


@dataclass
class TopicView:
    topic: Topic
    is_open: bool
    # Lessons and tasks are listed only when the student may open them.
    can_study: bool
    lessons: list[Lesson]
    tasks: list[Task]
    tests: list[Test]
    solved_task_ids: set[int]
    free_lessons: list[Lesson] = field(default_factory=list)

    @property
    def tasks_total(self) -> int:
        return len(self.tasks)

    @property
    def tasks_solved(self) -> int:
        return len(self.solved_task_ids)

    @property
    def is_done(self) -> bool:
        return self.tasks_total > 0 and self.tasks_solved == self.tasks_total


@dataclass
class CourseView:
    course: Course
    access: AccessDecision
    topics: list[TopicView]
    # The pause that keeps a paying student out now (the page offers to resume it).
    freeze: AccessFreeze | None = None

    @property
    def tasks_total(self) -> int:
        return sum(t.tasks_total for t in self.topics)

    @property
    def tasks_solved(self) -> int:
        return sum(t.tasks_solved for t in self.topics)

    @property
    def topics_done(self) -> int:
        return sum(1 for t in self.topics if t.is_done)


def course_list(*, user: User) -> list[Course]:
    """Published courses for the catalogue; staff and moderators also see drafts."""
    qs = Course.objects.prefetch_related("authors")
    if not is_staff_like(user):
        qs = qs.filter(is_published=True)
    return list(qs.annotate(topic_count=Count("topics")))


def course_get(*, user: User, slug: str) -> Course | None:
    qs = Course.objects.prefetch_related("authors")
    course = qs.filter(slug=slug).first()
    if course is None:
        return None
    if not course.is_published and not access_check(user=user, course_id=course.id).staff:
        return None
    return course


def course_view(*, user: User, course: Course, now: datetime | None = None) -> CourseView:
    """The course page for one user: topics with their open/locked state, the lessons,
    tasks and tests the user may open, and which tasks they solved. A fixed number of
    queries whatever the course's size."""
    now = now or timezone.now()
    access = access_check(user=user, course_id=course.id)
    topics = list(
        Topic.objects.filter(course=course).prefetch_related(
            Prefetch(
                "lessons",
                queryset=Lesson.objects.only(
                    "id", "topic_id", "title", "position", "is_free_preview", "video", "video_url"
                ),
            ),
            Prefetch(
                "tasks",
                queryset=Task.objects.filter(test__isnull=True).only(
                    "id", "topic_id", "title", "position", "kind", "points"
                ),
            ),
            Prefetch("tests", queryset=Test.objects.all()),
        )
    )
    solved: set[int] = set()
    if user.is_authenticated and access.allowed:
        solved = set(
            TaskProgress.objects.filter(
                user=user, course=course, solved_at__isnull=False
            ).values_list("task_id", flat=True)
        )
    views = []
    for topic in topics:
        is_open = topic.is_open(now)
        can_study = access.allowed and (is_open or access.staff)
        lessons = list(topic.lessons.all())
        tasks = list(topic.tasks.all())
        views.append(
            TopicView(
                topic=topic,
                is_open=is_open,
                can_study=can_study,
                lessons=lessons if can_study else [],
                tasks=tasks,
                tests=list(topic.tests.all()),
                solved_task_ids={t.id for t in tasks if t.id in solved},
                free_lessons=[lesson for lesson in lessons if lesson.is_free_preview],
            )
        )
    return CourseView(
        course=course,
        access=access,
        topics=views,
        freeze=running_freeze(user=user, course=course, access=access, now=now),
    )


def running_freeze(
    *, user: User, course: Course, access: AccessDecision, now: datetime
) -> AccessFreeze | None:
    """The user's pause of this course that runs now, when it is what keeps them out."""
    if access.allowed or not user.is_authenticated:
        return None
    return (
        AccessFreeze.objects.filter(
            grant__user=user,
            grant__course=course,
            grant__is_active=True,
            ended_at__isnull=True,
            starts_at__lte=now,
            ends_at__gt=now,
        )
        .order_by("-ends_at")
        .first()
    )


# --- Statistics --------------------------------------------------------------------


@dataclass
class LastSolved:
    task_id: int
    title: str
    solved_at: datetime


def _chart_months() -> list[str]:
    # Short month names as they stand after a day number (Russian: genitive, "9 мая").
    return [
        pgettext("month after a day, short", "Jan"),
        pgettext("month after a day, short", "Feb"),
        pgettext("month after a day, short", "Mar"),
        pgettext("month after a day, short", "Apr"),
        pgettext("month after a day, short", "May"),
        pgettext("month after a day, short", "Jun"),
        pgettext("month after a day, short", "Jul"),
        pgettext("month after a day, short", "Aug"),
        pgettext("month after a day, short", "Sep"),
        pgettext("month after a day, short", "Oct"),
        pgettext("month after a day, short", "Nov"),
        pgettext("month after a day, short", "Dec"),
    ]


def chart_day(day: date) -> str:
    """A day on a chart axis: "3 дек" in Russian, "Dec 3" in English."""
    return pgettext("chart day label: month and day", "%(month)s %(day)d") % {
        "month": _chart_months()[day.month - 1],
        "day": day.day,
    }


class ActivityChart:
    """Labels and values for the tasks-solved-per-day chart, from ``activity``:
    (day, tasks solved that day) for the last ACTIVITY_DAYS days, oldest first."""

    activity: list[tuple[date, int]]

    @property
    def activity_labels(self) -> list[str]:
        # "3 дек" / "Dec 3" in the viewer's language; the API keeps ISO dates.
        return [chart_day(day) for day, _count in self.activity]

    @property
    def activity_values(self) -> list[int]:
        return [count for _day, count in self.activity]


@dataclass
class CourseStats(ActivityChart):
    course: Course
    topics_done: int
    topics_total: int
    tasks_solved: int
    tasks_total: int
    streak: int
    # (day, tasks solved that day) for the last ACTIVITY_DAYS days, oldest first.
    activity: list[tuple[date, int]]
    last_solved: LastSolved | None


def streak_from_days(days: list[date], today: date) -> int:
    """Consecutive days with a correct answer, ending today, or yesterday when today
    has none yet (the streak is still alive until the day is over). ``days`` are
    distinct and sorted newest first."""
    if not days:
        return 0
    expected = today if days[0] == today else today - timedelta(days=1)
    streak = 0
    for day in days:
        if day != expected:
            break
        streak += 1
        expected -= timedelta(days=1)
    return streak


def course_stats(*, user: User, course: Course) -> CourseStats:
    """Per student and course; five queries whatever the history's length."""
    today = school_today()
    topic_rows = list(
        Topic.objects.filter(course=course)
        .annotate(task_count=Count("tasks", filter=Q(tasks__test__isnull=True)))
        .values_list("id", "task_count")
    )
    solved_rows = dict(
        TaskProgress.objects.filter(
            user=user, course=course, solved_at__isnull=False, task__test__isnull=True
        )
        .values("task__topic_id")
        .annotate(n=Count("id"))
        .values_list("task__topic_id", "n")
    )
    topics_done = sum(
        1 for topic_id, total in topic_rows if total and solved_rows.get(topic_id, 0) >= total
    )
    last = (
        TaskProgress.objects.filter(user=user, course=course, solved_at__isnull=False)
        .select_related("task")
        .only("solved_at", "task__id", "task__title")
        .order_by("-solved_at")
        .first()
    )
    start = today - timedelta(days=ACTIVITY_DAYS - 1)
    per_day = dict(
        DailyActivity.objects.filter(user=user, course=course, day__gte=start).values_list(
            "day", "tasks_solved"
        )
    )
    active_days = list(
        DailyActivity.objects.filter(user=user, course=course, correct_answers__gt=0)
        .order_by("-day")
        .values_list("day", flat=True)
    )
    activity = [
        (start + timedelta(days=i), per_day.get(start + timedelta(days=i), 0))
        for i in range(ACTIVITY_DAYS)
    ]
    return CourseStats(
        course=course,
        topics_done=topics_done,
        topics_total=len(topic_rows),
        tasks_solved=sum(solved_rows.values()),
        tasks_total=sum(total for _id, total in topic_rows),
        streak=streak_from_days(active_days, today),
        activity=activity,
        last_solved=LastSolved(
            task_id=last.task.id, title=last.task.title, solved_at=last.solved_at
        )
        if last
        else None,
    )


def student_courses(*, user: User) -> list[Course]:
    """Courses the student has worked on or has a grant for, for the statistics page."""
    return list(
        Course.objects.filter(
            Q(access_grants__user=user)
            | Q(id__in=TaskProgress.objects.filter(user=user).values("course_id"))
        )
        .distinct()
        .order_by("position", "id")
    )


def attempt_get(*, user: User, test: Test) -> TestAttempt | None:
    return TestAttempt.objects.filter(user=user, test=test).first()


class _CountedPaginator(Paginator):
    """Counts the rows without the page's aggregates (a plain COUNT, not a count of a
    grouped query)."""

    def __init__(self, object_list, per_page, *, count_from: QuerySet):
        super().__init__(object_list, per_page)
        self._count_from = count_from

    @cached_property
    def count(self) -> int:
        return self._count_from.count()


def student_directory(*, search: str = "", page=1, per_page: int = 30) -> Page:
    """A page of students for moderators: matched by name, email or phone, most recently
    active first, each with tasks solved, last active day and the courses they have
    access to now. Three queries (count, page, courses), however many students."""
    students = User.objects.filter(role=Role.STUDENT, is_active=True)
    search = " ".join(search.split())
    if search:
        match = Q(full_name__icontains=search) | Q(email__icontains=search)
        if connection.vendor == "sqlite":
            # SQLite folds case for ASCII only: also try the usual spellings of a name
            # ("анна петрова" finds "Анна Петрова"). PostgreSQL folds any letter.
            for variant in {search.lower(), search.title(), search.capitalize()} - {search}:
                match |= Q(full_name__contains=variant)
        for digits in phone_search_digits(search):
            match |= Q(phone__contains=digits)
        students = students.filter(match)
    # One join and GROUP BY over the activity rows (a correlated subquery per student
    # was three times slower at 100,000 students).
    ranked = students.annotate(
        last_active=Max("daily_activity__day"),
        tasks_solved=Coalesce(Sum("daily_activity__tasks_solved"), 0),
    ).order_by(F("last_active").desc(nulls_last=True), "full_name", "id")
    result = _CountedPaginator(ranked, per_page, count_from=students).get_page(page)
    now = timezone.now()
    courses = dict(
        AccessGrant.objects.filter(
            user_id__in=[student.id for student in result.object_list],
            is_active=True,
            starts_at__lte=now,
        )
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
        .order_by()
        .values("user")
        .annotate(n=Count("course", distinct=True))
        .values_list("user", "n")
    )
    for student in result.object_list:
        student.active_courses = courses.get(student.id, 0)
    return result


# --- Course figures for moderators and staff ---------------------------------------------

HARD_TASK_MIN_STUDENTS = 3
HARD_TASKS_SHOWN = 5


@dataclass
class TaskFigures:
    task_id: int
    title: str
    topic_title: str
    students: int  # who answered it at least once
    solved: int
    wrong_attempts: int

    @property
    def solve_rate(self) -> float:
        return self.solved / self.students if self.students else 0.0


@dataclass
class TopicFigures:
    topic_id: int
    title: str
    tasks: int
    # Share of the topic's tasks solved, over every student who has answered in the course.
    solved_share: float


@dataclass
class CourseFigures(ActivityChart):
    course: Course
    students_with_access: int
    learners: int  # students who have answered at least one task of the course
    active_this_week: int
    solved_total: int
    activity: list[tuple[date, int]]
    topics: list[TopicFigures]
    hardest: list[TaskFigures]


def course_figures(*, course: Course) -> CourseFigures:
    """The course as a whole, for moderators and staff: who studies it, how much is
    solved per day, how far each topic got and which tasks are hardest. Students only
    (moderators trying tasks do not count); six queries whatever the numbers."""
    today = school_today()
    now = timezone.now()
    students_with_access = (
        AccessGrant.objects.filter(
            course=course, is_active=True, starts_at__lte=now, user__role=Role.STUDENT
        )
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
        .values("user")
        .distinct()
        .count()
    )
    activity_rows = DailyActivity.objects.filter(course=course, user__role=Role.STUDENT)
    active_this_week = (
        activity_rows.filter(day__gte=today - timedelta(days=6), correct_answers__gt=0)
        .values("user")
        .distinct()
        .count()
    )
    start = today - timedelta(days=ACTIVITY_DAYS - 1)
    per_day = dict(
        activity_rows.filter(day__gte=start)
        .order_by()
        .values("day")
        .annotate(n=Sum("tasks_solved"))
        .values_list("day", "n")
    )
    progress = TaskProgress.objects.filter(
        course=course, task__test__isnull=True, user__role=Role.STUDENT
    )
    learners = progress.values("user").distinct().count()
    per_task = {
        row["task_id"]: row
        for row in progress.order_by()
        .values("task_id")
        .annotate(
            students=Count("id"),
            solved=Count("id", filter=Q(solved_at__isnull=False)),
            wrong=Sum("wrong_attempts"),
        )
    }
    tasks = Task.objects.filter(topic__course=course, test__isnull=True).values_list(
        "id", "title", "topic_id", "topic__title"
    )
    topics: dict[int, TopicFigures] = {}
    figures: list[TaskFigures] = []
    solved_by_topic: dict[int, int] = {}
    ordered = tasks.order_by("topic__position", "topic_id", "position", "id")
    for task_id, title, topic_id, topic_title in ordered:
        row = per_task.get(task_id, {})
        topic = topics.setdefault(topic_id, TopicFigures(topic_id, topic_title, 0, 0.0))
        topic.tasks += 1
        solved_by_topic[topic_id] = solved_by_topic.get(topic_id, 0) + row.get("solved", 0)
        figures.append(
            TaskFigures(
                task_id=task_id,
                title=title,
                topic_title=topic_title,
                students=row.get("students", 0),
                solved=row.get("solved", 0),
                wrong_attempts=row.get("wrong") or 0,
            )
        )
    for topic in topics.values():
        if learners and topic.tasks:
            topic.solved_share = solved_by_topic[topic.topic_id] / (learners * topic.tasks)
    hardest = sorted(
        (f for f in figures if f.students >= HARD_TASK_MIN_STUDENTS),
        key=lambda f: (f.solve_rate, -f.wrong_attempts),
    )[:HARD_TASKS_SHOWN]
    return CourseFigures(
        course=course,
        students_with_access=students_with_access,
        learners=learners,
        active_this_week=active_this_week,
        solved_total=sum(f.solved for f in figures),
        activity=[
            (start + timedelta(days=i), per_day.get(start + timedelta(days=i), 0))
            for i in range(ACTIVITY_DAYS)
        ],
        topics=list(topics.values()),
        hardest=hardest,
    )


# --- "My courses" on the profile and the home page ---------------------------------


@dataclass
class MyCourse:
    course: Course
    until: datetime | None  # None: for good
    paused_until: datetime | None
    tasks_total: int
    tasks_solved: int
    next_title: str = ""  # the next lesson (or task) to open; empty when all is done
    next_url: str = ""

    @property
    def percent(self) -> int:
        return round(100 * self.tasks_solved / self.tasks_total) if self.tasks_total else 0


def my_courses(*, user: User, now: datetime | None = None) -> list[MyCourse]:
    """The courses a student owns now, with progress and the next lesson to open. Five
    queries whatever the number of courses, topics and tasks."""
    if not user.is_authenticated or is_staff_like(user):
        return []
    now = now or timezone.now()
    grants = list(
        AccessGrant.objects.filter(user=user, is_active=True, course__is_published=True)
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
        .select_related("course")
        .prefetch_related(
            Prefetch(
                "freezes",
                queryset=AccessFreeze.objects.filter(
                    ended_at__isnull=True, starts_at__lte=now, ends_at__gt=now
                ),
                to_attr="running_freezes",
            )
        )
        .order_by("course__position", "course_id", "starts_at")
    )
    if not grants:
        return []
    by_course: dict[int, list[AccessGrant]] = {}
    for grant in grants:
        by_course.setdefault(grant.course_id, []).append(grant)
    mine: dict[int, MyCourse] = {}
    for course_id, own in by_course.items():
        running = [g for g in own if not g.running_freezes]
        # Paused only when every grant of the course is paused (a second, running
        # grant, such as one for good, keeps it open).
        counted = running or own
        ends = [g.available_until for g in counted]
        mine[course_id] = MyCourse(
            course=own[0].course,
            until=None if None in ends else max(ends),
            paused_until=None
            if running
            else max(f.ends_at for g in own for f in g.running_freezes),
            tasks_total=0,
            tasks_solved=0,
        )
    ids = list(mine)
    topics = list(
        Topic.objects.filter(course_id__in=ids)
        .order_by("course_id", "position", "id")
        .values_list("id", "course_id", "opens_at")
    )
    tasks_by_topic: dict[int, list[tuple[int, str]]] = {}
    for task_id, topic_id, title in (
        Task.objects.filter(topic__course_id__in=ids, test__isnull=True)
        .order_by("position", "id")
        .values_list("id", "topic_id", "title")
    ):
        tasks_by_topic.setdefault(topic_id, []).append((task_id, title))
    solved = set(
        TaskProgress.objects.filter(
            user=user, course_id__in=ids, solved_at__isnull=False
        ).values_list("task_id", flat=True)
    )
    lessons_by_topic: dict[int, tuple[int, str]] = {}
    for lesson_id, topic_id, title in (
        Lesson.objects.filter(topic__course_id__in=ids)
        .order_by("position", "id")
        .values_list("id", "topic_id", "title")
    ):
        lessons_by_topic.setdefault(topic_id, (lesson_id, title))
    for topic_id, course_id, opens_at in topics:
        entry = mine[course_id]
        tasks = tasks_by_topic.get(topic_id, [])
        entry.tasks_total += len(tasks)
        entry.tasks_solved += sum(1 for task_id, _title in tasks if task_id in solved)
        is_open = opens_at is None or opens_at <= now
        if entry.next_url or not is_open or all(task_id in solved for task_id, _t in tasks):
            continue
        # The first open topic with work left: its first lesson, else its first task.
        slug = entry.course.slug
        if topic_id in lessons_by_topic:
            lesson_id, entry.next_title = lessons_by_topic[topic_id]
            entry.next_url = reverse("learning:lesson", args=[slug, lesson_id])
        else:
            task_id, entry.next_title = next(t for t in tasks if t[0] not in solved)
            entry.next_url = reverse("learning:task", args=[slug, task_id])
    return list(mine.values())


def owned_course_ids(*, user: User, now: datetime | None = None) -> set[int]:
    """The courses a student has access to bought or granted (the catalogue's badge)."""
    if not user.is_authenticated:
        return set()
    now = now or timezone.now()
    return set(
        AccessGrant.objects.filter(user=user, is_active=True)
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
        .values_list("course_id", flat=True)
    )
