"""Study groups: placing students, their leaving, moves, names, teachers and group size.

parta.access calls the placement and the leaving whenever a grant gives a student access
to a course or takes the last of it away; groups never look at grants themselves.

Locking. Everything that changes who is in a course's groups first locks the course's
row (``SELECT ... FOR NO KEY UPDATE`` on catalog_course), courses in primary-key order,
until the caller's transaction ends. Under that lock, reading the groups' seat counts and
then writing is safe: placements into one course take turns, so no group is filled past
the course's size and a batch of new groups is made once, by whoever finds every group
full. Why the course's row and not an advisory lock: it exists for every course (no key
space to invent), shows in ``pg_locks`` by table, and the same code runs on SQLite in
tests (one writer at a time there anyway). NO KEY UPDATE rather than FOR UPDATE: rows
that refer to the course (grants, answers, progress take FOR KEY SHARE on it) never wait
for a placement. Placements into different courses do not wait for each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.accounts.models import Role, User
from parta.catalog.models import Course
from parta.common.db import insert_unless_exists
from parta.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from parta.groups.models import EndReason, Group, Membership

GROUP_NAME_MAX = 100
GROUP_SIZE_MAX = 1000


class GroupFull(Conflict):
    """The group a student is being moved into has no free seat."""

    code = "group_full"


def is_student(user: User) -> bool:
    return user.role == Role.STUDENT and not user.is_superuser


def may_manage_groups(user) -> bool:
    """Moderators and staff move students, rename groups and set teachers."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in (Role.MODERATOR, Role.STAFF))
    )


def may_overfill(user) -> bool:
    """Only staff may move a student into a full group (with a confirmation)."""
    return bool(user.is_authenticated and user.is_school_staff)


def course_lock(*, course_id: int) -> Course:
    """Lock the course's row until the current transaction ends (see the module's
    docstring) and return its id and group size."""
    course = (
        Course.objects.select_for_update(no_key=True)
        .only("id", "max_group_size")
        .filter(pk=course_id)
        .first()
    )
    if course is None:
        raise NotFound(_("No such course."))
    return course


def _count(group_id: int, delta: int) -> None:
    Group.objects.filter(pk=group_id).update(members_count=F("members_count") + delta)


def _current(student_id: int, course_id: int) -> Membership | None:
    return (
        Membership.objects.filter(student_id=student_id, course_id=course_id, ended_at=None)
        .select_related("group")
        .first()
    )


def _batch_create(course: Course) -> Group:
    """Every group of the course is full: make the next K (numbered on) and return the
    first."""
    last = Group.objects.filter(course_id=course.pk).aggregate(n=Max("number"))["n"] or 0
    batch = max(1, int(settings.PARTA_GROUPS_BATCH))
    groups = Group.objects.bulk_create(
        Group(course_id=course.pk, number=last + i) for i in range(1, batch + 1)
    )
    return groups[0]


def _place_locked(course: Course, student_id: int, now: datetime) -> Membership:
    """Place one student; the caller holds the course's lock."""
    group = (
        Group.objects.filter(course_id=course.pk, members_count__lt=course.max_group_size)
        .order_by("-members_count", "number")
        .only("id", "course_id", "number", "members_count")
        .first()
    )
    if group is None:
        # Someone already placed must not make a batch of empty groups (a rare replay).
        current = _current(student_id, course.pk)
        if current is not None:
            return current
        group = _batch_create(course)
    membership = Membership(
        student_id=student_id, group=group, course_id=course.pk, started_at=now
    )
    # Insert first: the one-current-group-per-course constraint makes a replay a no-op.
    if not insert_unless_exists(membership):
        return _current(student_id, course.pk)
    _count(group.pk, +1)
    return membership


def _place(pairs: set[tuple[int, int]]) -> list[Membership]:
    now = timezone.now()
    placed = []
    for course_id in sorted({course_id for _student, course_id in pairs}):
        course = course_lock(course_id=course_id)
        for student_id in sorted(s for s, c in pairs if c == course_id):
            placed.append(_place_locked(course, student_id, now))
    return placed


@transaction.atomic
def membership_place(*, student: User, course_id: int) -> Membership | None:
    """Put a student who has just gained access to a course in its fullest group that
    still has a seat; when every group is full, make ``PARTA_GROUPS_BATCH`` new ones and
    use the first. A student already in a group of the course stays where they are.
    Moderators and staff are not placed (None)."""
    if not is_student(student):
        return None
    return _place({(student.pk, course_id)})[0]


@transaction.atomic
def memberships_place(*, pairs: Iterable[tuple[int, int]]) -> list[Membership]:
    """``membership_place`` for many (student id, course id) pairs at once (a paid order,
    a plan's courses); courses are locked in primary-key order."""
    wanted = set(pairs)
    if not wanted:
        return []
    students = set(
        User.objects.filter(
            pk__in={student_id for student_id, _course in wanted},
            role=Role.STUDENT,
            is_superuser=False,
        ).values_list("pk", flat=True)
    )
    return _place({pair for pair in wanted if pair[0] in students})


@transaction.atomic
def membership_end(
    *, student_id: int, course_id: int, reason: EndReason, locked: bool = False
) -> Membership | None:
    """The student's access to the course has ended for good: their membership ends
    (kept, with the reason) and the seat is free. Nothing to end: None. ``locked``: the
    caller already holds the course's lock."""
    if reason not in (EndReason.REFUNDED, EndReason.EXPIRED, EndReason.REVOKED):
        raise ValueError(f"not a reason to leave a course: {reason!r}")
    if not locked:
        course_lock(course_id=course_id)
    membership = _current(student_id, course_id)
    if membership is None:
        return None
    membership.ended_at = timezone.now()
    membership.end_reason = reason
    membership.save(update_fields=["ended_at", "end_reason", "updated_at"])
    _count(membership.group_id, -1)
    return membership


@transaction.atomic
def membership_move(
    *, student: User, group: Group, by: User, override: bool = False
) -> Membership:
    """Move a student from their current group of ``group``'s course into ``group``. A
    full group refuses (GroupFull); staff may pass ``override`` to move them anyway."""
    if not may_manage_groups(by):
        raise PermissionDenied(_("Only moderators and staff move students between groups."))
    if override and not may_overfill(by):
        raise PermissionDenied(_("Only staff may move a student into a full group."))
    course = course_lock(course_id=group.course_id)
    target = Group.objects.get(pk=group.pk)  # its seat count now, under the lock
    current = _current(student.pk, course.pk)
    if current is None:
        raise ValidationFailed(
            {
                "student": [
                    _("%(name)s is not in a group of this course.") % {"name": student.full_name}
                ]
            }
        )
    if current.group_id == target.pk:
        raise ValidationFailed(
            {"group": [_("%(name)s is already in this group.") % {"name": student.full_name}]}
        )
    if target.members_count >= course.max_group_size and not override:
        message = _("%(group)s is full: %(count)d of %(size)d seats are taken.") % {
            "group": target.display_name,
            "count": target.members_count,
            "size": course.max_group_size,
        }
        if may_overfill(by):
            message += " " + _("Staff may move the student anyway, over the limit, by confirming.")
        raise GroupFull(message, field="group")
    now = timezone.now()
    current.ended_at = now
    current.end_reason = EndReason.MOVED
    current.save(update_fields=["ended_at", "end_reason", "updated_at"])
    _count(current.group_id, -1)
    moved = Membership.objects.create(
        student=student, group=target, course_id=course.pk, started_at=now, placed_by=by
    )
    _count(target.pk, +1)
    return moved


@transaction.atomic
def group_update(*, group: Group, by: User, name: str, teacher: User | None) -> Group:
    """Rename a group (an empty name: back to its number) and set or clear its teacher."""
    if not may_manage_groups(by):
        raise PermissionDenied(_("Only moderators and staff change groups."))
    name = " ".join((name or "").split())
    errors: dict[str, list[str]] = {}
    if len(name) > GROUP_NAME_MAX:
        errors["name"] = [
            _("A group's name is at most %(max)d characters.") % {"max": GROUP_NAME_MAX}
        ]
    if teacher is not None and not may_manage_groups(teacher):
        errors["teacher"] = [_("A group's teacher must be an active moderator or staff member.")]
    if errors:
        raise ValidationFailed(errors)
    course_lock(course_id=group.course_id)
    locked = Group.objects.get(pk=group.pk)
    # Compared here too: SQLite's lower() (the constraint's) knows only Latin letters.
    taken = (
        Group.objects.filter(course_id=locked.course_id)
        .exclude(pk=locked.pk)
        .exclude(name="")
        .values_list("name", flat=True)
    )
    if name and name.casefold() in {other.casefold() for other in taken}:
        raise ValidationFailed(
            {"name": [_("Another group of this course already has this name.")]}
        )
    locked.name = name
    locked.teacher = teacher
    try:
        with transaction.atomic():
            locked.save(update_fields=["name", "teacher", "updated_at"])
    except IntegrityError as exc:
        raise ValidationFailed(
            {"name": [_("Another group of this course already has this name.")]}
        ) from exc
    return locked


@transaction.atomic
def course_group_size_set(*, course: Course, size: int, by: User) -> Course:
    """How many students a group of the course takes. Groups already fuller than a new,
    smaller size keep their students; placement passes them by."""
    if not may_manage_groups(by):
        raise PermissionDenied(_("Only moderators and staff change groups."))
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= GROUP_SIZE_MAX:
        raise ValidationFailed(
            {
                "max_group_size": [
                    _("A group takes from 1 to %(max)d students.") % {"max": GROUP_SIZE_MAX}
                ]
            }
        )
    course_lock(course_id=course.pk)
    Course.objects.filter(pk=course.pk).update(max_group_size=size, updated_at=timezone.now())
    course.max_group_size = size
    return course
