"""Placement rules, leaving, moves, names and teachers (the services, on any database)."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.errors import PermissionDenied, ValidationFailed
from parta.groups.models import EndReason, Group, Membership
from parta.groups.services import (
    GroupFull,
    course_group_size_set,
    group_update,
    membership_end,
    membership_move,
    membership_place,
    memberships_place,
)
from parta.groups.tests.factories import GroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    return CourseFactory(max_group_size=2)


def place(course, student=None):
    return membership_place(student=student or UserFactory(), course_id=course.pk)


def fill(course) -> list[tuple[int, int]]:
    """(number, students now) of every group of the course, checked against the rows."""
    rows = []
    for group in Group.objects.filter(course=course).order_by("number"):
        current = Membership.objects.filter(group=group, ended_at=None).count()
        assert group.members_count == current, group
        rows.append((group.number, current))
    return rows


def test_the_first_student_makes_a_batch_of_k_groups_and_joins_the_first(course, settings):
    settings.PARTA_GROUPS_BATCH = 3
    membership = place(course)
    assert membership.group.number == 1
    assert fill(course) == [(1, 1), (2, 0), (3, 0)]


def test_students_join_the_fullest_group_that_still_has_a_seat(course, settings):
    settings.PARTA_GROUPS_BATCH = 3
    course_group_size_set(course=course, size=3, by=StaffFactory())
    ann, bob, cid = UserFactory(), UserFactory(), UserFactory()
    for student in (ann, bob, cid):
        place(course, student)
    assert fill(course) == [(1, 3), (2, 0), (3, 0)]
    first, second, third = Group.objects.filter(course=course).order_by("number")
    staff = StaffFactory()
    for student, group in ((ann, second), (bob, second), (cid, third)):
        membership_move(student=student, group=group, by=staff)
    assert fill(course) == [(1, 0), (2, 2), (3, 1)]
    assert place(course).group == second  # the fullest with a seat
    assert place(course).group == third  # group 2 is full now; 3 has one, 1 none
    assert place(course).group == third
    assert place(course).group == first
    assert fill(course) == [(1, 1), (2, 3), (3, 3)]


def test_a_full_course_gets_the_next_batch_numbered_on(course, settings):
    settings.PARTA_GROUPS_BATCH = 3
    for _ in range(6):
        place(course)
    assert fill(course) == [(1, 2), (2, 2), (3, 2)]
    settings.PARTA_GROUPS_BATCH = 2
    assert place(course).group.number == 4
    assert fill(course) == [(1, 2), (2, 2), (3, 2), (4, 1), (5, 0)]


def test_placing_a_student_already_in_a_group_changes_nothing(course, settings):
    settings.PARTA_GROUPS_BATCH = 1
    student = UserFactory()
    first = place(course, student)
    place(course)  # the group is full now
    again = place(course, student)
    assert again.pk == first.pk
    assert memberships_place(pairs=[(student.pk, course.pk)] * 3)[0].pk == first.pk
    # No batch of empty groups was made for a student who already has a seat.
    assert fill(course) == [(1, 2)]


def test_moderators_and_staff_are_not_placed(course):
    assert membership_place(student=ModeratorFactory(), course_id=course.pk) is None
    assert memberships_place(pairs=[(StaffFactory().pk, course.pk)]) == []
    assert not Group.objects.exists()


def test_one_student_in_many_courses_at_once(course):
    other = CourseFactory(max_group_size=5)
    student = UserFactory()
    placed = memberships_place(pairs=[(student.pk, other.pk), (student.pk, course.pk)])
    assert sorted(m.course_id for m in placed) == sorted([course.pk, other.pk])
    assert Membership.objects.filter(student=student, ended_at=None).count() == 2


def test_leaving_frees_the_seat_and_keeps_the_history(course, settings):
    settings.PARTA_GROUPS_BATCH = 1
    ann, bob = UserFactory(), UserFactory()
    place(course, ann)
    place(course, bob)
    ended = membership_end(student_id=ann.pk, course_id=course.pk, reason=EndReason.REFUNDED)
    assert ended.end_reason == EndReason.REFUNDED
    assert ended.ended_at is not None
    assert fill(course) == [(1, 1)]
    # The freed seat is taken before any new group is made.
    assert place(course).group.number == 1
    assert fill(course) == [(1, 2)]
    # Nothing left to end: nothing happens.
    assert membership_end(student_id=ann.pk, course_id=course.pk, reason=EndReason.EXPIRED) is None
    # Coming back (a new purchase) is a new membership; the old one stays as it was.
    settings.PARTA_GROUPS_BATCH = 1
    back = place(course, ann)
    assert back.pk != ended.pk
    assert back.group.number == 2
    history = Membership.objects.filter(student=ann).order_by("started_at")
    assert [(m.group.number, m.end_reason) for m in history] == [(1, "refunded"), (2, "")]


def test_the_database_refuses_a_second_current_group_in_one_course(course):
    student = UserFactory()
    membership = place(course, student)
    other = GroupFactory(course=course, number=99)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            student=student, group=other, course=course, started_at=timezone.now()
        )
    assert Membership.objects.filter(student=student).get() == membership


def test_a_moderator_moves_a_student_into_a_group_with_a_seat(course, settings):
    settings.PARTA_GROUPS_BATCH = 2
    ann = UserFactory()
    place(course, ann)
    place(course)
    moderator = ModeratorFactory()
    second = Group.objects.get(course=course, number=2)
    moved = membership_move(student=ann, group=second, by=moderator)
    assert (moved.group, moved.placed_by) == (second, moderator)
    assert fill(course) == [(1, 1), (2, 1)]
    old = Membership.objects.get(student=ann, ended_at__isnull=False)
    assert old.end_reason == EndReason.MOVED


def test_a_move_into_a_full_group_is_refused_with_the_reason(course, settings):
    settings.PARTA_GROUPS_BATCH = 2
    ann = UserFactory()
    place(course)
    place(course)
    place(course, ann)  # group 2
    first = Group.objects.get(course=course, number=1)
    with pytest.raises(GroupFull) as refused:
        membership_move(student=ann, group=first, by=ModeratorFactory())
    assert refused.value.message == "Group 1 is full: 2 of 2 seats are taken."
    assert refused.value.field == "group"
    # A moderator cannot override; nothing changed.
    with pytest.raises(PermissionDenied):
        membership_move(student=ann, group=first, by=ModeratorFactory(), override=True)
    assert fill(course) == [(1, 2), (2, 1)]
    # Staff are told they may confirm.
    with pytest.raises(GroupFull) as told:
        membership_move(student=ann, group=first, by=StaffFactory())
    assert "by confirming" in told.value.message


def test_staff_override_moves_a_student_over_the_limit(course, settings):
    settings.PARTA_GROUPS_BATCH = 2
    ann = UserFactory()
    place(course)
    place(course)
    place(course, ann)
    first = Group.objects.get(course=course, number=1)
    membership_move(student=ann, group=first, by=StaffFactory(), override=True)
    assert fill(course) == [(1, 3), (2, 0)]
    # Placement passes the overfull group by.
    assert place(course).group.number == 2


def test_moves_that_make_no_sense_are_refused(course):
    ann = UserFactory()
    membership = place(course, ann)
    with pytest.raises(ValidationFailed) as same:
        membership_move(student=ann, group=membership.group, by=ModeratorFactory())
    assert "already in this group" in same.value.errors["group"][0]
    stranger = UserFactory(full_name="Не Записан")
    with pytest.raises(ValidationFailed) as outside:
        membership_move(student=stranger, group=membership.group, by=ModeratorFactory())
    assert outside.value.errors["student"] == ["Не Записан is not in a group of this course."]
    with pytest.raises(PermissionDenied):
        membership_move(student=ann, group=membership.group, by=UserFactory())


def test_rename_and_teacher(course):
    group = place(course).group
    other = Group.objects.get(course=course, number=2)
    teacher = ModeratorFactory()
    saved = group_update(
        group=group, by=ModeratorFactory(), name="  Утренняя   группа ", teacher=teacher
    )
    assert (saved.name, saved.teacher, saved.display_name) == (
        "Утренняя группа",
        teacher,
        "Утренняя группа",
    )
    saved.refresh_from_db()
    assert saved.members_count == 1  # the name's save leaves the seat count alone
    with pytest.raises(ValidationFailed) as taken:
        group_update(group=other, by=ModeratorFactory(), name="утренняя ГРУППА", teacher=None)
    assert taken.value.errors == {"name": ["Another group of this course already has this name."]}
    with pytest.raises(ValidationFailed) as student:
        group_update(group=other, by=ModeratorFactory(), name="", teacher=UserFactory())
    assert "teacher" in student.value.errors
    with pytest.raises(ValidationFailed):
        group_update(group=other, by=ModeratorFactory(), name="x" * 101, teacher=None)
    with pytest.raises(PermissionDenied):
        group_update(group=other, by=UserFactory(), name="Mine", teacher=None)
    cleared = group_update(group=group, by=StaffFactory(), name="", teacher=None)
    assert (cleared.display_name, cleared.teacher) == ("Group 1", None)


def test_group_size(course, settings):
    settings.PARTA_GROUPS_BATCH = 1
    place(course)
    place(course)
    course_group_size_set(course=course, size=3, by=ModeratorFactory())
    assert place(course).group.number == 1
    course_group_size_set(course=course, size=1, by=ModeratorFactory())
    assert place(course).group.number == 2  # group 1 keeps its three, takes no more
    assert fill(course) == [(1, 3), (2, 1)]
    for bad in (0, 1001, "3", True, None):
        with pytest.raises(ValidationFailed):
            course_group_size_set(course=course, size=bad, by=ModeratorFactory())
    with pytest.raises(PermissionDenied):
        course_group_size_set(course=course, size=5, by=UserFactory())


def test_deleting_a_student_frees_their_seat(course, settings):
    settings.PARTA_GROUPS_BATCH = 1
    ann = UserFactory()
    place(course, ann)
    place(course)
    ann.delete()
    assert fill(course) == [(1, 1)]
