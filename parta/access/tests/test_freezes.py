from datetime import timedelta

import pytest
from django.utils import timezone

from parta.access.models import AccessFreeze, GrantSource
from parta.access.selectors import access_check, split_by_freezes
from parta.access.services import access_freeze_end, access_freeze_start, access_grant_create
from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.errors import ValidationFailed

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture
def grant():
    now = timezone.now()
    return access_grant_create(
        user=UserFactory(),
        course=CourseFactory(),
        source=GrantSource.PLAN,
        starts_at=now - DAY,
        available_until=now + 10 * DAY,
        freeze_limit_days=7,
        reference="test:plan",
    )


def test_split_by_freezes_cuts_the_frozen_part_out():
    t = timezone.now()
    assert split_by_freezes(t, t + 10 * DAY, [(t + 2 * DAY, t + 5 * DAY)]) == [
        (t, t + 2 * DAY),
        (t + 5 * DAY, t + 10 * DAY),
    ]
    assert split_by_freezes(t, None, []) == [(t, None)]


def test_freeze_pauses_access_and_moves_the_end(grant, django_capture_on_commit_callbacks):
    end_before = grant.available_until
    assert access_check(user=grant.user, course_id=grant.course_id).allowed
    with django_capture_on_commit_callbacks(execute=True):
        freeze = access_freeze_start(grant=grant, days=3)
    grant.refresh_from_db()
    assert grant.available_until == end_before + 3 * DAY
    assert grant.frozen_days == 3
    assert not access_check(user=grant.user, course_id=grant.course_id).allowed
    assert freeze.ends_at - freeze.starts_at == 3 * DAY


def test_freeze_limits(grant):
    with pytest.raises(ValidationFailed, match="7"):
        access_freeze_start(grant=grant, days=8)
    with pytest.raises(ValidationFailed):
        access_freeze_start(grant=grant, days=0)
    access_freeze_start(grant=grant, days=2)
    with pytest.raises(ValidationFailed, match="already frozen"):
        access_freeze_start(grant=grant, days=1)
    assert AccessFreeze.objects.count() == 1


def test_open_ended_or_expired_access_cannot_be_frozen():
    now = timezone.now()
    forever = access_grant_create(
        user=UserFactory(), course=CourseFactory(), source=GrantSource.MANUAL, freeze_limit_days=5
    )
    with pytest.raises(ValidationFailed):
        access_freeze_start(grant=forever, days=1)
    expired = access_grant_create(
        user=UserFactory(),
        course=CourseFactory(),
        source=GrantSource.PLAN,
        starts_at=now - 10 * DAY,
        available_until=now - DAY,
        freeze_limit_days=5,
    )
    with pytest.raises(ValidationFailed):
        access_freeze_start(grant=expired, days=1)


def test_early_unfreeze_returns_the_unused_days(
    grant, monkeypatch, django_capture_on_commit_callbacks
):
    end_before = grant.available_until
    freeze = access_freeze_start(grant=grant, days=5)
    later = timezone.now() + timedelta(days=1, hours=2)  # into the second day
    monkeypatch.setattr("parta.access.services.timezone.now", lambda: later)
    with django_capture_on_commit_callbacks(execute=True):
        access_freeze_end(freeze=freeze)
    grant.refresh_from_db()
    freeze.refresh_from_db()
    assert freeze.ended_at == later
    # The time actually frozen (1 day 2 hours) stays added; the rest goes back.
    assert grant.available_until == end_before + (later - freeze.starts_at)
    # Two days were started, three return to the limit.
    assert grant.frozen_days == 2
    with pytest.raises(ValidationFailed):
        access_freeze_end(freeze=freeze)


def test_grant_reference_makes_creation_idempotent(grant):
    again = access_grant_create(
        user=grant.user, course=grant.course, source=GrantSource.PLAN, reference="test:plan"
    )
    assert again.pk == grant.pk
