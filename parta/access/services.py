"""Writes for access grants. Every change invalidates the cached decisions on commit and
keeps the student's study group in step (parta.groups): a grant that gives access places
the student in a group, and losing the last live grant for a course ends their
membership and frees the seat. Every grant is created or changed here, so this is the
one place that calls the groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.access import cache as access_cache
from parta.access.models import AccessFreeze, AccessGrant, GrantSource
from parta.accounts.models import User
from parta.audit.services import is_person, record
from parta.catalog.models import Course
from parta.common.errors import ValidationFailed
from parta.groups.models import EndReason
from parta.groups.services import course_lock, membership_end, membership_place, memberships_place


def access_cache_invalidate(*, user_id: int) -> None:
    """Make the user's cached decisions unusable once the current transaction commits."""
    transaction.on_commit(lambda: access_cache.bump(user_id))


def _grant_state(grant: AccessGrant) -> dict:
    return {
        "course": grant.course_id,
        "starts_at": grant.starts_at,
        "available_until": grant.available_until,
        "is_active": grant.is_active,
        "frozen_days": grant.frozen_days,
    }


def _live(grants, now: datetime):
    """Grants that give access now or later: active and not ended."""
    return grants.filter(is_active=True).filter(
        Q(available_until__isnull=True) | Q(available_until__gt=now)
    )


def _groups_follow(*, user_id: int, course_id: int, reason: EndReason) -> None:
    """After a grant of (user, course) changed: placed while a live grant is left, else
    out of the course's group with ``reason``. The course's lock is taken before the
    grants are read, so a grant another transaction adds meanwhile is either seen here
    or places the student itself once this one commits."""
    course_lock(course_id=course_id)
    now = timezone.now()
    if _live(AccessGrant.objects.filter(user_id=user_id, course_id=course_id), now).exists():
        memberships_place(pairs=[(user_id, course_id)])
    else:
        membership_end(student_id=user_id, course_id=course_id, reason=reason, locked=True)


@transaction.atomic
def access_grant_create(
    *,
    user: User,
    course: Course,
    source: GrantSource,
    starts_at: datetime | None = None,
    available_until: datetime | None = None,
    granted_by: User | None = None,
    note: str = "",
    reference: str = "",
    freeze_limit_days: int = 0,
    reason: str = "",
) -> AccessGrant:
    """Create a grant and place the student in a study group of the course (when the
    grant has not ended). With a ``reference`` (what paid for it, e.g. "order-line:42")
    the call is idempotent: a second call returns the grant the first one made. A grant
    made by a person (``granted_by``) is written to the audit log with ``reason``."""
    starts_at = starts_at or timezone.now()
    if available_until is not None and available_until <= starts_at:
        raise ValidationFailed(
            {"available_until": [_("The end of access must be after its start.")]}
        )
    if source not in GrantSource.values:
        raise ValidationFailed({"source": [_("Unknown source of access.")]})
    grant = AccessGrant(
        user=user,
        course=course,
        source=source,
        starts_at=starts_at,
        available_until=available_until,
        granted_by=granted_by,
        note=note,
        reference=reference,
        freeze_limit_days=freeze_limit_days,
    )
    if reference:
        # Insert unless the reference exists (ON CONFLICT DO NOTHING), then read it back:
        # a replay gets the first grant, without an error or a savepoint.
        AccessGrant.objects.bulk_create([grant], ignore_conflicts=True)
        grant = AccessGrant.objects.get(reference=reference)
    else:
        grant.save()
    if is_person(granted_by):
        record(
            actor=granted_by,
            action="access.grant",
            obj=grant,
            subject=user,
            after={**_grant_state(grant), "source": grant.source},
            reason=reason,
        )
    access_cache_invalidate(user_id=user.id)
    if grant.is_active and (
        grant.available_until is None or grant.available_until > timezone.now()
    ):
        membership_place(student=user, course_id=course.id)
    return grant


@transaction.atomic
def access_grant_deactivate(
    *,
    grant: AccessGrant,
    reason: EndReason = EndReason.REVOKED,
    by: User | None = None,
    note: str = "",
) -> AccessGrant:
    """Switch a grant off for good (a refund, an expiry, staff). When it was the
    student's last live grant for the course, their group membership ends with
    ``reason`` and the seat is freed. Done by a person (``by``): audited with ``note``
    as the reason."""
    grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.is_active:
        before = _grant_state(grant)
        grant.is_active = False
        grant.save(update_fields=["is_active", "updated_at"])
        if is_person(by):
            record(
                actor=by,
                action="access.revoke",
                obj=grant,
                subject=User(pk=grant.user_id),
                before=before,
                after=_grant_state(grant),
                reason=note,
            )
    access_cache_invalidate(user_id=grant.user_id)
    _groups_follow(user_id=grant.user_id, course_id=grant.course_id, reason=reason)
    return grant


@transaction.atomic
def access_grant_update(
    *,
    grant: AccessGrant,
    starts_at: datetime,
    available_until: datetime | None,
    is_active: bool,
    note: str = "",
    by: User | None = None,
    reason: str = "",
) -> AccessGrant:
    """Staff edits of a grant (admin). The grant's user and course never change."""
    if available_until is not None and available_until <= starts_at:
        raise ValidationFailed(
            {"available_until": [_("The end of access must be after its start.")]}
        )
    grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
    before = _grant_state(grant)
    grant.starts_at = starts_at
    grant.available_until = available_until
    grant.is_active = is_active
    grant.note = note
    grant.save(update_fields=["starts_at", "available_until", "is_active", "note", "updated_at"])
    if is_person(by):
        record(
            actor=by,
            action="access.update",
            obj=grant,
            subject=User(pk=grant.user_id),
            before=before,
            after=_grant_state(grant),
            reason=reason,
        )
    access_cache_invalidate(user_id=grant.user_id)
    ended = is_active and available_until is not None and available_until <= timezone.now()
    _groups_follow(
        user_id=grant.user_id,
        course_id=grant.course_id,
        reason=EndReason.EXPIRED if ended else EndReason.REVOKED,
    )
    return grant


# --- Freezes ---------------------------------------------------------------------------

DAY = timedelta(days=1)


def _running_freeze(grant: AccessGrant, now: datetime) -> AccessFreeze | None:
    return (
        AccessFreeze.objects.filter(grant=grant, ended_at__isnull=True, ends_at__gt=now)
        .order_by("-starts_at")
        .first()
    )


@transaction.atomic
def access_freeze_start(
    *, grant: AccessGrant, days: int, by: User | None = None, reason: str = ""
) -> AccessFreeze:
    """Pause a time-limited grant for ``days`` days from now: access is refused until the
    freeze ends, and the grant's end moves later by the same days. Audited when ``by``
    is a person."""
    grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
    now = timezone.now()
    if not isinstance(days, int) or days < 1:
        raise ValidationFailed({"days": [_("Freeze for at least one day.")]})
    if not grant.is_active or grant.available_until is None:
        raise ValidationFailed(
            {"grant": [_("Only an active, time-limited access can be frozen.")]}
        )
    if grant.available_until <= now or grant.starts_at > now:
        raise ValidationFailed({"grant": [_("This access is not running now.")]})
    if _running_freeze(grant, now) is not None:
        raise ValidationFailed({"grant": [_("This access is already frozen.")]})
    left = grant.freeze_limit_days - grant.frozen_days
    if days > left:
        raise ValidationFailed(
            {"days": [_("At most %(left)d more day(s) of freeze are allowed.") % {"left": left}]}
        )
    freeze = AccessFreeze.objects.create(
        grant=grant, starts_at=now, ends_at=now + days * DAY, days=days, created_by=by
    )
    before = _grant_state(grant)
    grant.available_until += days * DAY
    grant.frozen_days += days
    grant.save(update_fields=["available_until", "frozen_days", "updated_at"])
    if is_person(by):
        record(
            actor=by,
            action="access.freeze",
            obj=grant,
            subject=User(pk=grant.user_id),
            before=before,
            after={**_grant_state(grant), "freeze": freeze.pk, "days": days},
            reason=reason,
        )
    access_cache_invalidate(user_id=grant.user_id)
    return freeze


@transaction.atomic
def access_freeze_end(
    *, freeze: AccessFreeze, by: User | None = None, reason: str = ""
) -> AccessFreeze:
    """End a running freeze now. The time not used goes back: the grant's end moves
    earlier by it, and whole days not started return to the freeze limit. Audited when
    ``by`` is a person."""
    freeze = AccessFreeze.objects.select_related("grant").get(pk=freeze.pk)
    grant = AccessGrant.objects.select_for_update().get(pk=freeze.grant_id)
    freeze = AccessFreeze.objects.select_for_update().get(pk=freeze.pk)
    now = timezone.now()
    if freeze.ended_at is not None or freeze.ends_at <= now:
        raise ValidationFailed({"freeze": [_("This freeze is not running.")]})
    unused = freeze.ends_at - now
    days_started = max(1, -(-(now - freeze.starts_at) // DAY))
    freeze.ended_at = now
    freeze.save(update_fields=["ended_at", "updated_at"])
    before = _grant_state(grant)
    grant.available_until -= unused
    grant.frozen_days -= max(0, freeze.days - days_started)
    grant.save(update_fields=["available_until", "frozen_days", "updated_at"])
    if is_person(by):
        record(
            actor=by,
            action="access.unfreeze",
            obj=grant,
            subject=User(pk=grant.user_id),
            before=before,
            after={**_grant_state(grant), "freeze": freeze.pk},
            reason=reason,
        )
    access_cache_invalidate(user_id=grant.user_id)
    return freeze


@dataclass(frozen=True)
class GrantSpec:
    user_id: int
    course_id: int
    source: GrantSource
    starts_at: datetime
    reference: str
    available_until: datetime | None = None
    freeze_limit_days: int = 0
    note: str = ""
    # Days already frozen (a course joining a plan purchase that was paused before).
    frozen_days: int = 0


@transaction.atomic
def access_grants_create_many(specs: list[GrantSpec]) -> None:
    """Create several paid-for grants in one statement; a reference that exists already
    is skipped (ON CONFLICT DO NOTHING), so a replay creates nothing. For payments,
    whose grants are built by Parta itself (no validation needed beyond the model's).
    The students are then placed in study groups: those whose grant under one of these
    references is live (a replay of a refunded purchase places nobody)."""
    if not specs:
        return
    AccessGrant.objects.bulk_create(
        [
            AccessGrant(
                user_id=spec.user_id,
                course_id=spec.course_id,
                source=spec.source,
                starts_at=spec.starts_at,
                available_until=spec.available_until,
                freeze_limit_days=spec.freeze_limit_days,
                frozen_days=spec.frozen_days,
                reference=spec.reference,
                note=spec.note,
            )
            for spec in specs
        ],
        ignore_conflicts=True,
    )
    for user_id in {spec.user_id for spec in specs}:
        access_cache_invalidate(user_id=user_id)
    live = _live(
        AccessGrant.objects.filter(reference__in=[spec.reference for spec in specs]),
        timezone.now(),
    )
    memberships_place(pairs=set(live.values_list("user_id", "course_id")))
