"""The one place that decides whether a user may study a course now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from parta.access import cache as access_cache
from parta.access.models import AccessFreeze, AccessGrant
from parta.accounts.models import Role, User
from parta.catalog.models import Course
from parta.common.errors import NotFound


@dataclass(frozen=True, slots=True)
class AccessDecision:
    allowed: bool
    # When access ends; None with allowed=True means open-ended.
    until: datetime | None
    # Staff and moderators see every course without a grant.
    staff: bool = False


def is_staff_like(user) -> bool:
    return bool(
        user.is_authenticated and (user.is_superuser or user.role in (Role.STAFF, Role.MODERATOR))
    )


def split_by_freezes(
    start: datetime, end: datetime | None, freezes: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime | None]]:
    """The parts of [start, end) not covered by freeze intervals."""
    parts: list[tuple[datetime, datetime | None]] = []
    cursor: datetime | None = start
    for f_start, f_end in sorted(freezes):
        if cursor is None:
            break
        if end is not None and f_start >= end:
            break
        if f_end <= cursor:
            continue
        if f_start > cursor:
            parts.append((cursor, f_start))
        cursor = f_end
    if cursor is not None and (end is None or cursor < end):
        parts.append((cursor, end))
    return parts


def decide(grants: list[tuple[datetime, datetime | None]], now: datetime):
    """From (starts_at, available_until) intervals of active grants, return the
    decision at ``now`` and the next moment it can change (None: never).

    Overlapping or touching grants are merged, so a renewal bought before the old
    one ends reports the later end."""
    intervals = sorted(grants, key=lambda pair: pair[0])
    merged: list[list] = []
    for start, end in intervals:
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last = merged[-1]
            if last[1] is not None and (end is None or end > last[1]):
                last[1] = end
        else:
            merged.append([start, end])
    for start, end in merged:
        if start <= now and (end is None or end > now):
            return AccessDecision(allowed=True, until=end), end
        if start > now:
            return AccessDecision(allowed=False, until=None), start
    return AccessDecision(allowed=False, until=None), None


def _freezes_for(grant_ids: list[int]) -> dict[int, list]:
    by_grant: dict[int, list] = {}
    if not grant_ids:
        return by_grant
    rows = AccessFreeze.objects.filter(grant_id__in=grant_ids).values_list(
        "grant_id", "starts_at", "ends_at", "ended_at"
    )
    for grant_id, start, end, ended in rows:
        by_grant.setdefault(grant_id, []).append((start, ended or end))
    return by_grant


def _intervals_by_course(user_id: int, course_ids: list[int]) -> dict[int, list]:
    """The user's access intervals per course (active grants minus their freezes): one
    query, plus one for freezes only when a grant has ever been frozen."""
    rows = list(
        AccessGrant.objects.filter(
            user_id=user_id, course_id__in=course_ids, is_active=True
        ).values_list("course_id", "id", "starts_at", "available_until", "frozen_days")
    )
    frozen = _freezes_for([row[1] for row in rows if row[4]])
    by_course: dict[int, list] = {cid: [] for cid in course_ids}
    for course_id, grant_id, start, end, _days in rows:
        by_course[course_id].extend(split_by_freezes(start, end, frozen.get(grant_id, [])))
    return by_course


def _compute(user_id: int, course_id: int, now: datetime):
    return decide(_intervals_by_course(user_id, [course_id])[course_id], now)


def access_check(*, user: User, course_id: int) -> AccessDecision:
    """May ``user`` study course ``course_id`` now? Cached per user and course (see
    parta.access.cache): every grant change makes the user's cached answers unusable
    once it commits, and an answer never outlives the moment it is due to change (an
    expiry or a future start)."""
    if not user.is_authenticated:
        return AccessDecision(allowed=False, until=None)
    if is_staff_like(user):
        return AccessDecision(allowed=True, until=None, staff=True)
    return access_check_by_id(user_id=user.id, course_id=course_id)


def _from_cache(allowed: bool, until_ts: float | None) -> AccessDecision:
    until = datetime.fromtimestamp(until_ts, tz=UTC) if until_ts else None
    return AccessDecision(allowed=allowed, until=until)


def access_check_by_id(*, user_id: int, course_id: int, verify: bool = False) -> AccessDecision:
    """The decision by ids, cached (the API's hot path). Without ``verify`` it is the
    grant-based decision for a student. With ``verify`` (for the API) an unknown user or
    course raises NotFound, and staff and moderators are allowed every course; both are
    looked up on a cache miss only (a cached entry implies they existed, and a change
    to a user invalidates their answers: see parta.access.receivers)."""
    now = timezone.now()
    version, usable, token = access_cache.read(user_id, [course_id], now)
    if course_id in usable:
        return _from_cache(*usable[course_id])
    if verify:
        if not Course.objects.filter(pk=course_id).exists():
            raise NotFound(_("No such course."))
        user = User.objects.filter(pk=user_id).only("id", "role", "is_superuser").first()
        if user is None:
            raise NotFound(_("No such user."))
    if verify and is_staff_like(user):
        decision, changes_at = AccessDecision(allowed=True, until=None, staff=True), None
    else:
        decision, changes_at = _compute(user_id, course_id, now)
    access_cache.write(
        user_id,
        course_id,
        version=version,
        allowed=decision.allowed,
        until=decision.until,
        changes_at=changes_at,
        now=now,
        token=token,
    )
    return decision


def accessible_course_ids(*, user: User, course_ids: list[int]) -> set[int]:
    """Which of ``course_ids`` the user may study now, for lists: the cached answers,
    and one lookup for all the rest (see _intervals_by_course)."""
    if not course_ids or not user.is_authenticated:
        return set()
    if is_staff_like(user):
        return set(course_ids)
    now = timezone.now()
    _version, usable, _token = access_cache.read(user.id, course_ids, now)
    allowed = {course_id for course_id, (is_allowed, _until) in usable.items() if is_allowed}
    missing = [course_id for course_id in course_ids if course_id not in usable]
    if missing:
        for course_id, intervals in _intervals_by_course(user.id, missing).items():
            if decide(intervals, now)[0].allowed:
                allowed.add(course_id)
    return allowed
