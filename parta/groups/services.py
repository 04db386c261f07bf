"""Study groups: placing students, their leaving, moves, names, teachers and group size.

parta.access calls the placement and the leaving whenever a grant gives a student access
to a course or takes the last of it away; groups never look at grants themselves.

Locking, in two levels; every lock lasts until the caller's transaction ends.

- A placement locks the group it takes a seat in: one statement picks the fullest group
  of the course that still has a seat with ``FOR NO KEY UPDATE`` and, in the same
  statement, inserts the membership and counts the seat. Concurrent placements wait for
  that row, and PostgreSQL checks the waiting one's condition (a seat left) again on the
  row as the first one committed it, moving on to the next group if it is full now. So
  no group is ever filled past its size, students still fill the fullest group first,
  and only the group row is held while the rest of the caller's transaction (a webhook's
  payment, receipt and grant) commits.
- The course's row (``FOR NO KEY UPDATE`` on catalog_course) is taken when no group has
  a seat, before looking again and making the next batch of groups, so a batch is made
  once, by one of the students who found every group full; the others wait for it and
  take its seats. Leaving and moves take it too, so a batch is never made while a seat
  is being freed.

Why the course's row and not an advisory lock: the row exists for every course (no key
space to invent), shows in ``pg_locks`` by table, and the same code runs on SQLite (one
writer at a time there; its placement does the same in three ORM statements). NO KEY
UPDATE rather than FOR UPDATE: rows that refer to the course or the group (grants,
answers, memberships take FOR KEY SHARE) never wait for a placement. Courses are taken
in primary-key order, and a transaction never waits for a course's row while it holds
one of that course's group rows (several students placed into one course at once take
the course's row first), so these locks cannot deadlock with each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.accounts.models import Role, User
from parta.audit.services import record, record_change
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
    rows = (
        Course.objects.select_for_update(no_key=True)
        .only("id", "max_group_size")
        .filter(pk=course_id)
        .order_by()[:1]
    )
    course = next(iter(rows), None)
    if course is None:
        raise NotFound(_("No such course."))
    return course


def _count(group_id: int, delta: int) -> None:
    Group.objects.filter(pk=group_id).update(members_count=F("members_count") + delta)


def _current(student_id: int, course_id: int) -> Membership | None:
    # No ORDER BY: at most one row (the constraint), found by its partial unique index.
    rows = (
        Membership.objects.filter(student_id=student_id, course_id=course_id, ended_at=None)
        .select_related("group")
        .order_by()[:1]
    )
    return next(iter(rows), None)


def _batch_create(course_id: int) -> None:
    """Every group of the course is full: make the next K, numbered on. The caller holds
    the course's lock."""
    last = Group.objects.filter(course_id=course_id).aggregate(n=Max("number"))["n"] or 0
    batch = max(1, int(settings.PARTA_GROUPS_BATCH))
    Group.objects.bulk_create(
        Group(course_id=course_id, number=last + i) for i in range(1, batch + 1)
    )


def _seat_filter(course_id: int) -> Q:
    size = Course.objects.filter(pk=course_id).values("max_group_size")[:1]
    return Q(course_id=course_id, members_count__lt=Subquery(size))


# One statement: unless the student is in a group of the course already, lock the
# fullest group with a seat, insert the membership and count the seat.
_TAKE_SEAT_SQL = """
WITH current AS (
    SELECT m.id FROM {membership} m
    WHERE m.student_id = %(student)s AND m.course_id = %(course)s AND m.ended_at IS NULL
), chosen AS (
    SELECT g.id FROM {group} g
    WHERE g.course_id = %(course)s
      AND g.members_count < (SELECT c.max_group_size FROM {course} c WHERE c.id = %(course)s)
      AND NOT EXISTS (SELECT 1 FROM current)
    ORDER BY g.members_count DESC, g.number
    LIMIT 1
    FOR NO KEY UPDATE OF g
), placed AS (
    INSERT INTO {membership}
        (created_at, updated_at, student_id, group_id, course_id, started_at, end_reason)
    SELECT %(now)s, %(now)s, %(student)s, chosen.id, %(course)s, %(now)s, '' FROM chosen
    ON CONFLICT DO NOTHING
    RETURNING id, group_id
), counted AS (
    UPDATE {group} SET members_count = members_count + 1
    FROM placed WHERE {group}.id = placed.group_id
    RETURNING {group}.id
)
SELECT (SELECT id FROM placed), (SELECT group_id FROM placed),
       (SELECT id FROM chosen) IS NOT NULL OR EXISTS (SELECT 1 FROM current),
       (SELECT count(*) FROM counted)
"""


def _take_seat(course_id: int, student_id: int, now: datetime) -> Membership | None:
    """Take a seat in the fullest group of the course that has one: the new membership,
    or the student's current one (nothing changed), or None when no group has a seat."""
    if connection.vendor == "postgresql":
        sql = _TAKE_SEAT_SQL.format(
            group=Group._meta.db_table,
            course=Course._meta.db_table,
            membership=Membership._meta.db_table,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, {"course": course_id, "student": student_id, "now": now})
            placed, group_id, seated, _counted = cursor.fetchone()
        if placed is None:
            # Already in a group (or placed by a concurrent call just now), or no seat.
            return _current(student_id, course_id) if seated else None
        membership = Membership(
            pk=placed,
            student_id=student_id,
            group_id=group_id,
            course_id=course_id,
            started_at=now,
            created_at=now,
            updated_at=now,
        )
        membership._state.adding = False
        membership._state.db = connection.alias
        return membership
    # Elsewhere (SQLite: one writer at a time) the same in a few statements.
    current = _current(student_id, course_id)
    if current is not None:
        return current
    group = (
        Group.objects.filter(_seat_filter(course_id))
        .order_by("-members_count", "number")
        .only("id")
        .first()
    )
    if group is None:
        return None
    membership = Membership(
        student_id=student_id, group_id=group.pk, course_id=course_id, started_at=now
    )
    # Insert first: the one-current-group-per-course constraint makes a replay a no-op.
    if not insert_unless_exists(membership):
        return _current(student_id, course_id)
    _count(group.pk, +1)
    return membership


def _place_student(course_id: int, student_id: int, now: datetime, *, locked: bool) -> Membership:
    """Place one student (``locked``: the caller holds the course's lock)."""
    if not locked:
        # Looking for a seat can lock groups that a concurrent placement filled while
        # this one waited (PostgreSQL keeps the lock on a row that fails its recheck).
        # When no seat is left, those locks go (rollback to the savepoint) before this
        # transaction waits for the course's lock, whose holder may be waiting for them.
        # On success the savepoint is simply left to the commit: no extra round trip
        # while the seat's row is held.
        savepoint = transaction.savepoint()
        membership = _take_seat(course_id, student_id, now)
        if membership is not None:
            return membership
        transaction.savepoint_rollback(savepoint)
        # Every group is full as far as committed work shows: wait for the course's
        # lock (its holder may be making the next batch), then look again. Keeping the
        # lock to the commit costs nothing here: the students arriving now all want
        # the same fullest group's row anyway.
        course_lock(course_id=course_id)
    membership = _take_seat(course_id, student_id, now)
    if membership is None:
        # Under the course's lock no one else makes groups, so this batch is made once;
        # the lock lasts until the commit, when the new groups become visible to all.
        _batch_create(course_id)
        membership = _take_seat(course_id, student_id, now)
    return membership


def _place(pairs: set[tuple[int, int]]) -> list[Membership]:
    now = timezone.now()
    placed = []
    for course_id in sorted({course_id for _student, course_id in pairs}):
        students = sorted(s for s, c in pairs if c == course_id)
        # Several students into one course: the course's lock first, so that this
        # transaction never waits for it while holding a group row of the course.
        locked = len(students) > 1
        if locked:
            course_lock(course_id=course_id)
        for student_id in students:
            placed.append(_place_student(course_id, student_id, now, locked=locked))
    return placed


# No savepoint: access calls these inside its own transaction, which an error here rolls
# back whole (a savepoint would cost two more round trips while the seat is held).
@transaction.atomic(savepoint=False)
def membership_place(*, student: User, course_id: int) -> Membership | None:
    """Put a student who has just gained access to a course in its fullest group that
    still has a seat; when every group is full, make ``PARTA_GROUPS_BATCH`` new ones and
    use the first. A student already in a group of the course stays where they are.
    Moderators and staff are not placed (None)."""
    if not is_student(student):
        return None
    return _place({(student.pk, course_id)})[0]


@transaction.atomic(savepoint=False)
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
    *, student: User, group: Group, by: User, override: bool = False, reason: str = ""
) -> Membership:
    """Move a student from their current group of ``group``'s course into ``group``. A
    full group refuses (GroupFull); staff may pass ``override`` to move them anyway.
    The move is written to the audit log with ``reason``."""
    if not may_manage_groups(by):
        raise PermissionDenied(_("Only moderators and staff move students between groups."))
    if override and not may_overfill(by):
        raise PermissionDenied(_("Only staff may move a student into a full group."))
    course = course_lock(course_id=group.course_id)
    current = _current(student.pk, course.pk)
    if current is None:
        raise ValidationFailed(
            {
                "student": [
                    _("%(name)s is not in a group of this course.") % {"name": student.full_name}
                ]
            }
        )
    # Both groups' rows, in primary-key order: their seat counts as they are now.
    locked = Group.objects.select_for_update(no_key=True).filter(
        pk__in={current.group_id, group.pk}
    )
    target = {g.pk: g for g in locked.order_by("pk")}.get(group.pk)
    if target is None or target.course_id != course.pk:
        raise NotFound(_("No such group."))
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
    record(
        actor=by,
        action="groups.move",
        obj=moved,
        subject=student,
        before={"group": current.group_id, "course": course.pk},
        after={
            "group": target.pk,
            "course": course.pk,
            "over_the_limit": target.members_count >= course.max_group_size,
        },
        reason=reason,
    )
    return moved


@transaction.atomic
def group_update(
    *, group: Group, by: User, name: str, teacher: User | None, reason: str = ""
) -> Group:
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
    before = {"name": locked.name, "teacher": locked.teacher_id}
    locked.name = name
    locked.teacher = teacher
    try:
        with transaction.atomic():
            locked.save(update_fields=["name", "teacher", "updated_at"])
    except IntegrityError as exc:
        raise ValidationFailed(
            {"name": [_("Another group of this course already has this name.")]}
        ) from exc
    record_change(
        actor=by,
        action="groups.group_update",
        obj=locked,
        before=before,
        after={"name": locked.name, "teacher": locked.teacher_id},
        reason=reason,
        changed_only=True,
    )
    return locked


@transaction.atomic
def course_group_size_set(*, course: Course, size: int, by: User, reason: str = "") -> Course:
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
    locked = course_lock(course_id=course.pk)
    Course.objects.filter(pk=course.pk).update(max_group_size=size, updated_at=timezone.now())
    record_change(
        actor=by,
        action="groups.group_size_set",
        obj=course,
        before={"max_group_size": locked.max_group_size},
        after={"max_group_size": size},
        reason=reason,
        changed_only=True,
    )
    course.max_group_size = size
    return course
