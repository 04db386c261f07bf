from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from parta.access.models import AccessGrant
from parta.access.selectors import access_check
from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import StaffFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def _dt(value):
    local = timezone.localtime(value)
    return {"0": local.strftime("%Y-%m-%d"), "1": local.strftime("%H:%M:%S")}


def test_staff_grants_access_in_the_admin_and_the_cache_follows(
    client, django_capture_on_commit_callbacks
):
    staff, student, course = StaffFactory(), UserFactory(), CourseFactory()
    assert not access_check(user=student, course_id=course.id).allowed  # cached "no"
    client.force_login(staff)
    start = timezone.now() - timedelta(minutes=1)
    data = {
        "user": student.pk,
        "course": course.pk,
        "source": "manual",
        "is_active": "on",
        "note": "gift",
        **{f"starts_at_{k}": v for k, v in _dt(start).items()},
        "available_until_0": "",
        "available_until_1": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:access_accessgrant_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = AccessGrant.objects.get()
    assert grant.granted_by == staff
    assert access_check(user=student, course_id=course.id).allowed


def test_admin_refuses_an_end_before_the_start(client):
    client.force_login(StaffFactory())
    grant = AccessGrantFactory()
    start = timezone.now()
    data = {
        "source": "manual",
        "is_active": "on",
        "note": "",
        **{f"starts_at_{k}": v for k, v in _dt(start).items()},
        **{f"available_until_{k}": v for k, v in _dt(start - timedelta(days=1)).items()},
    }
    response = client.post(reverse("admin:access_accessgrant_change", args=[grant.pk]), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["available_until"]
    grant.refresh_from_db()
    assert grant.available_until is None


def test_admin_deactivating_a_grant_ends_access(client, django_capture_on_commit_callbacks):
    client.force_login(StaffFactory())
    grant = AccessGrantFactory()
    assert access_check(user=grant.user, course_id=grant.course_id).allowed
    data = {
        "source": "manual",
        "note": "",
        **{f"starts_at_{k}": v for k, v in _dt(grant.starts_at).items()},
        "available_until_0": "",
        "available_until_1": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:access_accessgrant_change", args=[grant.pk]), data)
    assert response.status_code == 302
    assert not access_check(user=grant.user, course_id=grant.course_id).allowed
