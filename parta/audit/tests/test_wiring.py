"""Every audited service writes one entry (who, what, before and after, reason, client) in
its own transaction; a refused or rolled-back change writes none; the school's own
changes (no person acting) are not audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from parta.accounts.models import Role
from parta.accounts.services import user_active_set, user_role_set
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.audit.models import AuditEntry
from parta.catalog import services as catalog
from parta.catalog.models import AnswerKind, Lesson
from parta.catalog.services import ChoiceInput
from parta.catalog.tests.factories import (
    CourseFactory,
    LessonFactory,
    TaskFactory,
    TopicFactory,
)
from parta.common.errors import Conflict, PermissionDenied, ValidationFailed
from parta.faq import services as faq
from parta.faq.models import Category
from parta.groups.models import Group
from parta.groups.services import course_group_size_set, group_update, membership_place
from parta.groups.sessions import attendance_mark, session_cancel, session_create, session_update
from parta.news import services as news

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator():
    return ModeratorFactory()


@pytest.fixture
def staff():
    return StaffFactory()


def only_entry(**filters) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(**filters))
    assert len(entries) == 1, [(e.action, e.before, e.after) for e in entries]
    return entries[0]


def no_entries() -> None:
    assert list(AuditEntry.objects.values_list("action", flat=True)) == []


# --- live sessions -------------------------------------------------------------------


@pytest.fixture
def course_with_students():
    course = CourseFactory(title="Algebra")
    students = [UserFactory() for _ in range(2)]
    for student in students:
        membership_place(student=student, course_id=course.pk)
    return course, students


def test_a_session_planned_moved_changed_and_cancelled_is_audited(moderator, course_with_students):
    course, _students = course_with_students
    starts = timezone.now() + timedelta(days=1)
    session = session_create(
        actor=moderator,
        course=course,
        starts_at=starts,
        duration_minutes=60,
        meeting_url="https://meet.example/a",
        reason="weekly",
    )
    created = only_entry(action="groups.session_create")
    assert (created.actor_id, created.actor_role, created.reason) == (
        moderator.pk,
        "moderator",
        "weekly",
    )
    assert (created.object_type, created.object_id) == ("groups.livesession", str(session.pk))
    assert created.after["duration_minutes"] == 60
    assert created.after["meeting_url"] == "https://meet.example/a"
    assert created.after["invited"] == 2
    assert created.before == {}

    session_update(
        actor=moderator,
        session=session,
        starts_at=starts,
        duration_minutes=60,
        description="Bring a pen",
    )
    changed = only_entry(action="groups.session_update")
    assert (changed.before, changed.after) == ({"description": ""}, {"description": "Bring a pen"})

    later = starts + timedelta(hours=2)
    session_update(
        actor=moderator,
        session=session,
        starts_at=later,
        duration_minutes=90,
        reason="teacher ill",
    )
    moved = only_entry(action="groups.session_move")
    assert set(moved.before) == {"starts_at", "duration_minutes"}
    assert moved.before["duration_minutes"] == 60
    assert moved.after["duration_minutes"] == 90
    assert moved.reason == "teacher ill"

    session_cancel(actor=moderator, session=session, reason="holiday")
    cancelled = only_entry(action="groups.session_cancel")
    assert cancelled.before == {"cancelled_at": None}
    assert cancelled.after["cancelled_at"]
    assert cancelled.reason == "holiday"


def test_a_refused_session_writes_no_entry(moderator, course_with_students):
    course, students = course_with_students
    with pytest.raises(ValidationFailed):
        session_create(
            actor=moderator,
            course=course,
            starts_at=timezone.now() - timedelta(hours=1),
            duration_minutes=60,
        )
    with pytest.raises(PermissionDenied):
        session_create(
            actor=students[0],
            course=course,
            starts_at=timezone.now() + timedelta(hours=1),
            duration_minutes=60,
        )
    no_entries()


def test_each_attendance_mark_is_on_the_students_card(moderator, course_with_students):
    course, students = course_with_students
    now = timezone.now()
    session = session_create(
        actor=moderator, course=course, starts_at=now + timedelta(hours=1), duration_minutes=60
    )
    invitations = {i.user_id: i.pk for i in session.invitations.all()}
    later = now + timedelta(hours=2)
    attendance_mark(
        actor=moderator,
        session=session,
        attended={invitations[students[0].pk]: True, invitations[students[1].pk]: False},
        now=later,
        reason="from the call log",
    )
    marks = AuditEntry.objects.filter(action="groups.attendance_mark")
    assert {(e.subject_id, e.before["attended"], e.after["attended"]) for e in marks} == {
        (students[0].pk, None, True),
        (students[1].pk, None, False),
    }
    assert {e.reason for e in marks} == {"from the call log"}
    # The same marks again change nothing and write nothing.
    attendance_mark(
        actor=moderator, session=session, attended={invitations[students[0].pk]: True}, now=later
    )
    assert marks.count() == 2
    # A refused mark (somebody not invited) writes nothing either.
    with pytest.raises(ValidationFailed):
        attendance_mark(
            actor=moderator,
            session=session,
            attended={invitations[students[0].pk]: False, 10**9: True},
            now=later,
        )
    assert marks.count() == 2


# --- groups --------------------------------------------------------------------------


def test_a_group_rename_and_teacher_are_audited_and_a_taken_name_is_not(moderator):
    course = CourseFactory(max_group_size=1)
    for _ in range(2):
        membership_place(student=UserFactory(), course_id=course.pk)
    first, second = Group.objects.filter(course=course).order_by("number")[:2]
    group_update(group=first, by=moderator, name="Утро", teacher=moderator, reason="new slot")
    entry = only_entry(action="groups.group_update")
    assert entry.before == {"name": "", "teacher": None}
    assert entry.after == {"name": "Утро", "teacher": moderator.pk}
    assert entry.reason == "new slot"
    with pytest.raises(ValidationFailed):
        group_update(group=second, by=moderator, name="утро", teacher=None)
    assert AuditEntry.objects.count() == 1


def test_a_group_size_change_is_audited_and_a_bad_size_is_not(moderator):
    course = CourseFactory(max_group_size=30)
    course_group_size_set(course=course, size=12, by=moderator, reason="smaller rooms")
    entry = only_entry(action="groups.group_size_set")
    assert (entry.before, entry.after) == ({"max_group_size": 30}, {"max_group_size": 12})
    assert entry.object_type == "catalog.course"
    with pytest.raises(ValidationFailed):
        course_group_size_set(course=course, size=0, by=moderator)
    assert AuditEntry.objects.count() == 1


# --- published content ---------------------------------------------------------------


def test_a_course_created_and_changed_in_the_workspace_is_audited(moderator):
    course = catalog.course_create(actor=moderator, title="Физика", slug="physics", reason="new")
    created = only_entry(action="catalog.course_create")
    assert created.after["title"] == "Физика"
    assert created.after["is_published"] is False
    assert created.reason == "new"
    arguments = {
        "course": course,
        "title": "Физика",
        "slug": "physics",
        "track": "",
        "description": "",
        "price_amount": 0,
        "price_currency": "RUB",
        "is_published": True,
        "position": course.position,
    }
    catalog.course_update(actor=moderator, **arguments)
    published = only_entry(action="catalog.course_update")
    assert (published.before, published.after) == ({"is_published": False}, {"is_published": True})
    # Saved as it was: no entry.
    catalog.course_update(actor=moderator, **arguments)
    assert AuditEntry.objects.filter(action="catalog.course_update").count() == 1
    # Refused (a taken address): no entry, nothing changed.
    CourseFactory(slug="taken")
    with pytest.raises(ValidationFailed):
        catalog.course_update(actor=moderator, **{**arguments, "slug": "taken"})
    assert AuditEntry.objects.filter(action="catalog.course_update").count() == 1


def test_topics_lessons_tests_and_tasks_are_audited(moderator):
    course = CourseFactory()
    topic = catalog.topic_create(actor=moderator, course=course, title="Векторы")
    catalog.topic_update(
        actor=moderator, topic=topic, title="Vectors", description="", opens_at=None, position=1
    )
    lesson = catalog.lesson_create(actor=moderator, topic=topic, title="Intro")
    catalog.lesson_update(
        actor=moderator,
        lesson=lesson,
        title="Intro",
        body="Hello",
        video_url="",
        is_free_preview=True,
        position=lesson.position,
    )
    test = catalog.test_create(actor=moderator, topic=topic, title="Quiz")
    catalog.test_update(
        actor=moderator, test=test, title="Quiz", description="", time_limit_minutes=15, position=1
    )
    task = catalog.task_create(
        actor=moderator,
        topic=topic,
        title="Capital",
        statement="The capital of France?",
        kind=AnswerKind.SINGLE,
        choices=[ChoiceInput("Paris", True), ChoiceInput("Lyon")],
    )
    assert only_entry(action="catalog.task_create").after["choices"] == [
        {"text": "Paris", "is_correct": True},
        {"text": "Lyon", "is_correct": False},
    ]
    catalog.task_update(
        actor=moderator,
        task=task,
        title="Capital",
        statement="The capital of France?",
        kind=AnswerKind.SINGLE,
        points=task.points,
        test=None,
        answer_text="",
        answer_number=None,
        tolerance=task.tolerance,
        solution="",
        solution_visibility=task.solution_visibility,
        solution_after_attempts=task.solution_after_attempts,
        choices=[ChoiceInput("Lyon"), ChoiceInput("Paris", True)],
        position=task.position,
    )
    task_changed = only_entry(action="catalog.task_update")
    assert list(task_changed.before) == ["choices"]
    assert task_changed.after["choices"][0] == {"text": "Lyon", "is_correct": False}
    assert only_entry(action="catalog.topic_update").after == {"title": "Vectors"}
    assert only_entry(action="catalog.lesson_update").after == {
        "body": "Hello",
        "is_free_preview": True,
    }
    assert only_entry(action="catalog.test_update").after == {"time_limit_minutes": 15}
    catalog.task_delete(actor=moderator, task=task)
    catalog.test_delete(actor=moderator, test=test)
    catalog.lesson_delete(actor=moderator, lesson=lesson)
    catalog.topic_delete(actor=moderator, topic=topic)
    for kind, title in (
        ("task", "Capital"),
        ("test", "Quiz"),
        ("lesson", "Intro"),
        ("topic", "Vectors"),
    ):
        deleted = only_entry(action=f"catalog.{kind}_delete")
        assert deleted.before["title"] == title
        assert deleted.after == {}
        assert deleted.actor_id == moderator.pk
    assert set(AuditEntry.objects.values_list("actor_id", flat=True)) == {moderator.pk}


def test_content_made_by_the_school_itself_is_not_audited():
    """Seeding, imports and commands pass no person: the log is for people's actions."""
    course = catalog.course_create(title="Demo", slug="demo")
    catalog.topic_create(course=course, title="One")
    TaskFactory()
    no_entries()


def test_a_refused_task_writes_no_entry(moderator):
    topic = TopicFactory()
    with pytest.raises(ValidationFailed):
        catalog.task_create(
            actor=moderator, topic=topic, title="", statement="?", kind=AnswerKind.TEXT
        )
    no_entries()


def test_a_change_rolled_back_by_its_caller_leaves_no_entry(moderator):
    lesson = LessonFactory()
    pk = lesson.pk

    @transaction.atomic
    def delete_then_fail():
        catalog.lesson_delete(actor=moderator, lesson=lesson)
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        delete_then_fail()
    no_entries()
    assert Lesson.objects.filter(pk=pk).exists()


def test_news_posts_are_audited_from_draft_to_cancel(moderator):
    post = news.post_create(author=moderator, title="Привет", body="Новости", reason="monthly")
    assert only_entry(action="news.post_create").reason == "monthly"
    news.post_update(actor=moderator, post=post, title="Hello", body="Новости", audience="all")
    assert only_entry(action="news.post_update").after == {"title": "Hello"}
    at = timezone.now() + timedelta(days=1)
    news.post_publish(actor=moderator, post=post, at=at)
    published = only_entry(action="news.post_publish")
    assert (published.before["status"], published.after["status"]) == ("draft", "scheduled")
    news.post_cancel(actor=moderator, post=post, reason="typo")
    cancelled = only_entry(action="news.post_cancel")
    assert (cancelled.before, cancelled.after) == (
        {"status": "scheduled"},
        {"status": "cancelled"},
    )
    # Refused (cancelled twice): no second entry.
    with pytest.raises(Conflict):
        news.post_cancel(actor=moderator, post=post)
    assert AuditEntry.objects.filter(action="news.post_cancel").count() == 1


def test_the_faq_is_audited(moderator):
    first = faq.category_create(actor=moderator, title="Оплата")
    second = faq.category_create(actor=moderator, title="Доступ")
    faq.category_move(actor=moderator, category=second, direction="up")
    moved = only_entry(action="faq.category_move", object_id=str(second.pk))
    assert (moved.before, moved.after) == ({"position": 2}, {"position": 1})
    faq.category_update(actor=moderator, category=first, title="Платежи")
    assert only_entry(action="faq.category_update").after == {"title": "Платежи"}
    entry = faq.entry_create(actor=moderator, category=first, question="Как?", answer="Так.")
    faq.entry_update(
        actor=moderator,
        entry=entry,
        category=first,
        question="Как?",
        answer="Так.",
        is_published=False,
    )
    assert only_entry(action="faq.entry_update").after == {"is_published": False}
    faq.entry_delete(actor=moderator, entry=entry)
    assert only_entry(action="faq.entry_delete").before["question"] == "Как?"
    faq.category_delete(actor=moderator, category=second)
    assert only_entry(action="faq.category_delete").before["title"] == "Доступ"
    # Refused: a title taken already.
    with pytest.raises(ValidationFailed):
        faq.category_create(actor=moderator, title="платежи")
    assert AuditEntry.objects.filter(action="faq.category_create").count() == 2
    assert Category.objects.count() == 1


# --- roles ---------------------------------------------------------------------------


def test_a_role_change_and_a_block_are_on_the_persons_card(staff):
    person = UserFactory()
    user_role_set(actor=staff, user=person, role=Role.MODERATOR, reason="hired")
    entry = only_entry(action="accounts.role_set")
    assert (entry.subject_id, entry.before, entry.after) == (
        person.pk,
        {"role": "student"},
        {"role": "moderator"},
    )
    assert (entry.actor_id, entry.actor_role, entry.reason) == (staff.pk, "staff", "hired")
    user_active_set(actor=staff, user=person, active=False, reason="left the school")
    blocked = only_entry(action="accounts.block")
    assert (blocked.before, blocked.after) == ({"is_active": True}, {"is_active": False})
    person.refresh_from_db()
    assert not person.is_active
    user_active_set(actor=staff, user=person, active=True, reason="back")
    assert only_entry(action="accounts.unblock").subject_id == person.pk


def test_role_changes_are_refused_to_non_staff_to_oneself_and_without_a_reason(staff):
    person = UserFactory()
    with pytest.raises(PermissionDenied):
        user_role_set(actor=ModeratorFactory(), user=person, role=Role.STAFF)
    with pytest.raises(PermissionDenied):
        user_role_set(actor=staff, user=staff, role=Role.STUDENT)
    with pytest.raises(ValidationFailed):
        user_role_set(actor=staff, user=person, role="king")
    with pytest.raises(ValidationFailed) as caught:
        user_active_set(actor=staff, user=person, active=False, reason=" ")
    assert "reason" in caught.value.errors
    person.refresh_from_db()
    assert (person.role, person.is_active) == (Role.STUDENT, True)
    no_entries()
