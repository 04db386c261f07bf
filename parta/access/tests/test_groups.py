"""Every way a grant gives or takes access keeps the student's study group in step."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from parta.access.models import GrantSource
from parta.access.services import (
    GrantSpec,
    access_grant_create,
    access_grant_deactivate,
    access_grant_update,
    access_grants_create_many,
)
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.groups.models import EndReason, Membership

pytestmark = pytest.mark.django_db

NOW = timezone.now


@pytest.fixture
def course():
    return CourseFactory(max_group_size=2)


def current(student, course):
    return Membership.objects.filter(student=student, course=course, ended_at=None).first()


def grant(student, course, **fields):
    return access_grant_create(
        user=student, course=course, source=fields.pop("source", GrantSource.MANUAL), **fields
    )


@pytest.mark.parametrize("source", GrantSource.values)
def test_every_source_of_access_places_the_student(course, source):
    student = UserFactory()
    grant(student, course, source=source)
    assert current(student, course).group.number == 1


def test_a_grant_that_has_already_ended_places_nobody(course):
    student = UserFactory()
    grant(
        student,
        course,
        starts_at=NOW() - timedelta(days=40),
        available_until=NOW() - timedelta(days=10),
    )
    assert current(student, course) is None


def test_a_grant_for_a_moderator_places_nobody(course):
    grant(ModeratorFactory(), course)
    assert not Membership.objects.exists()


def test_losing_the_last_live_grant_ends_the_membership(course):
    student = UserFactory()
    first = grant(student, course)
    second = grant(student, course, available_until=NOW() + timedelta(days=30))
    access_grant_deactivate(grant=first, reason=EndReason.REFUNDED)
    membership = current(student, course)
    assert membership is not None  # the second grant still gives access
    access_grant_deactivate(grant=second, reason=EndReason.EXPIRED)
    assert current(student, course) is None
    membership.refresh_from_db()
    assert membership.end_reason == EndReason.EXPIRED
    assert membership.group.members_count == 0


def test_staff_edits_in_the_admin_follow(course):
    student = UserFactory()
    made = grant(student, course)
    access_grant_update(
        grant=made, starts_at=made.starts_at, available_until=None, is_active=False
    )
    assert Membership.objects.get(student=student).end_reason == EndReason.REVOKED
    access_grant_update(grant=made, starts_at=made.starts_at, available_until=None, is_active=True)
    assert current(student, course) is not None  # back in a group: a new membership
    access_grant_update(
        grant=made,
        starts_at=NOW() - timedelta(days=2),
        available_until=NOW() - timedelta(days=1),
        is_active=True,
    )
    assert current(student, course) is None
    assert Membership.objects.filter(student=student, end_reason=EndReason.EXPIRED).count() == 1


def test_grants_made_in_bulk_place_their_students_once(course):
    other = CourseFactory()
    ann, bob = UserFactory(), UserFactory()
    specs = [
        GrantSpec(ann.pk, course.pk, GrantSource.PURCHASE, NOW(), "order-line:1"),
        GrantSpec(bob.pk, course.pk, GrantSource.PLAN, NOW(), "order-line:2:course:1"),
        GrantSpec(bob.pk, other.pk, GrantSource.PLAN, NOW(), "order-line:2:course:2"),
    ]
    access_grants_create_many(specs)
    access_grants_create_many(specs)  # a replay
    assert Membership.objects.count() == 3
    # A replay after a refund does not put the student back.
    access_grant_deactivate(grant=ann.access_grants.get(), reason=EndReason.REFUNDED)
    access_grants_create_many(specs)
    assert current(ann, course) is None


def test_deleting_grants_in_the_admin_frees_the_seats(client, course):
    ann, bob = UserFactory(), UserFactory()
    grant(ann, course)
    made = grant(bob, course)
    client.force_login(StaffFactory())
    response = client.post(
        reverse("admin:access_accessgrant_delete", args=[made.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert current(bob, course) is None
    response = client.post(
        reverse("admin:access_accessgrant_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [ann.access_grants.get().pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(ended_at=None).exists()
    assert list(Membership.objects.values_list("end_reason", flat=True)) == ["revoked"] * 2
