"""Reads about study groups: a fixed number of queries whatever the numbers."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from parta.accounts.models import Role, User
from parta.catalog.models import Course
from parta.groups.models import Group, Membership

HISTORY_SHOWN = 20


@dataclass(frozen=True)
class GroupFill:
    group: Group
    members: int
    size: int

    @property
    def seats_left(self) -> int:
        return max(0, self.size - self.members)

    @property
    def is_full(self) -> bool:
        return self.members >= self.size

    @property
    def over(self) -> bool:
        return self.members > self.size

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.members / self.size)) if self.size else 100


@dataclass(frozen=True)
class CourseFill:
    course: Course
    groups: list[GroupFill]

    @property
    def students(self) -> int:
        return sum(fill.members for fill in self.groups)

    @property
    def seats(self) -> int:
        return sum(fill.size for fill in self.groups)

    @property
    def full(self) -> int:
        return sum(1 for fill in self.groups if fill.is_full)


def course_fill(*, course: Course) -> CourseFill:
    """The course's groups in order with their teachers and fill: one query."""
    groups = list(Group.objects.filter(course=course).select_related("teacher").order_by("number"))
    for group in groups:
        group.course = course
    return CourseFill(
        course=course,
        groups=[GroupFill(g, g.members_count, course.max_group_size) for g in groups],
    )


def group_get(*, pk: int) -> Group | None:
    return Group.objects.select_related("course", "teacher").filter(pk=pk).first()


def group_fill(*, group: Group) -> GroupFill:
    return GroupFill(group, group.members_count, group.course.max_group_size)


def group_members(*, group: Group) -> list[Membership]:
    """The group's students now, longest-standing first: one query."""
    return list(
        Membership.objects.filter(group=group, ended_at=None)
        .select_related("student", "placed_by")
        .order_by("started_at", "id")
    )


def group_history(*, group: Group, limit: int = HISTORY_SHOWN) -> list[Membership]:
    """The latest students who left the group (moved, refunded, expired): one query."""
    return list(
        Membership.objects.filter(group=group, ended_at__isnull=False)
        .select_related("student")
        .order_by("-ended_at", "-id")[:limit]
    )


def membership_current(*, student: User, course: Course) -> Membership | None:
    """The student's group in the course now, with its teacher (for the course page)."""
    if not student.is_authenticated:
        return None
    return (
        Membership.objects.filter(student=student, course=course, ended_at=None)
        .select_related("group__teacher")
        .first()
    )


def memberships_current(*, student: User) -> list[Membership]:
    """Every group the student is in now, with course and teacher: one query."""
    return list(
        Membership.objects.filter(student=student, ended_at=None)
        .select_related("group__teacher", "group__course")
        .order_by("group__course__position", "group__course_id")
    )


def teacher_choices() -> QuerySet[User]:
    """Who may teach a group: active moderators and staff."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(role__in=[Role.MODERATOR, Role.STAFF]) | Q(is_superuser=True))
        .order_by("full_name", "id")
    )
