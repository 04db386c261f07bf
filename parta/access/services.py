"""Writes for access grants. Every change drops the cached decision on commit."""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.access.models import AccessGrant, GrantSource
from parta.access.selectors import cache_key
from parta.accounts.models import User
from parta.catalog.models import Course
from parta.common.errors import ValidationFailed


def access_cache_invalidate(*, user_id: int, course_id: int) -> None:
    """Drop the cached decision once the current transaction commits."""
    transaction.on_commit(lambda: cache.delete(cache_key(user_id, course_id)))


def access_cache_invalidate_user(*, user_id: int) -> None:
    """Drop every cached decision of a user (e.g. after a role change)."""
    keys = [cache_key(user_id, cid) for cid in Course.objects.values_list("id", flat=True)]
    transaction.on_commit(lambda: cache.delete_many(keys))


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
) -> AccessGrant:
    starts_at = starts_at or timezone.now()
    if available_until is not None and available_until <= starts_at:
        raise ValidationFailed(
            {"available_until": [_("The end of access must be after its start.")]}
        )
    if source not in GrantSource.values:
        raise ValidationFailed({"source": [_("Unknown source of access.")]})
    grant = AccessGrant.objects.create(
        user=user,
        course=course,
        source=source,
        starts_at=starts_at,
        available_until=available_until,
        granted_by=granted_by,
        note=note,
    )
    access_cache_invalidate(user_id=user.id, course_id=course.id)
    return grant


@transaction.atomic
def access_grant_deactivate(*, grant: AccessGrant) -> AccessGrant:
    grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.is_active:
        grant.is_active = False
        grant.save(update_fields=["is_active", "updated_at"])
    access_cache_invalidate(user_id=grant.user_id, course_id=grant.course_id)
    return grant


@transaction.atomic
def access_grant_update(
    *,
    grant: AccessGrant,
    starts_at: datetime,
    available_until: datetime | None,
    is_active: bool,
    note: str = "",
) -> AccessGrant:
    """Staff edits of a grant (admin). The grant's user and course never change."""
    if available_until is not None and available_until <= starts_at:
        raise ValidationFailed(
            {"available_until": [_("The end of access must be after its start.")]}
        )
    grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
    grant.starts_at = starts_at
    grant.available_until = available_until
    grant.is_active = is_active
    grant.note = note
    grant.save(update_fields=["starts_at", "available_until", "is_active", "note", "updated_at"])
    access_cache_invalidate(user_id=grant.user_id, course_id=grant.course_id)
    return grant
