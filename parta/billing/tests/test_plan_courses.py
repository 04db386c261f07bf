"""A course added to a plan reaches the buyers whose plan is running, on the same terms;
refunded and ended purchases get nothing; a paused purchase gets it paused."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from parta.access.models import AccessGrant
from parta.access.selectors import access_check
from parta.accounts.tests.factories import StaffFactory, UserFactory
from parta.billing.services.freezes import purchase_freeze, purchase_unfreeze
from parta.billing.services.plans import plan_courses_extend
from parta.billing.services.refunds import refund_grant, refund_quote
from parta.billing.tests.factories import PlanItemFactory
from parta.billing.tests.helpers import buy_json, pay
from parta.catalog.tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_item():
    item = PlanItemFactory()
    item.plan.courses.add(CourseFactory(title="Алгебра"))
    return item


def bought(item) -> AccessGrant:
    """A new student buys the plan in the sandbox; their grant for its first course."""
    student = UserFactory()
    client = Client()
    client.force_login(student)
    pay(client, buy_json(client, item.pk)["url"])
    return AccessGrant.objects.filter(user=student).order_by("id").first()


def test_running_purchases_get_the_new_course_on_the_same_terms(
    plan_item, django_capture_on_commit_callbacks
):
    running, refunded, ended = bought(plan_item), bought(plan_item), bought(plan_item)
    refund_grant(grant=refunded, requested_by=refunded.user)
    AccessGrant.objects.filter(user=ended.user).update(
        starts_at=timezone.now() - timedelta(days=40),
        available_until=timezone.now() - timedelta(days=10),
    )
    geometry = CourseFactory(title="Геометрия")
    plan_item.plan.courses.add(geometry)
    assert not access_check(user=running.user, course_id=geometry.id).allowed  # cached "no"

    with django_capture_on_commit_callbacks(execute=True):
        assert plan_courses_extend(plan=plan_item.plan) == 1
    new = AccessGrant.objects.get(user=running.user, course=geometry)
    assert (new.source, new.starts_at, new.available_until) == (
        running.source,
        running.starts_at,
        running.available_until,
    )
    assert new.freeze_limit_days == running.freeze_limit_days
    assert access_check(user=running.user, course_id=geometry.id).allowed
    for other in (refunded, ended):
        assert not AccessGrant.objects.filter(user=other.user, course=geometry).exists()
    assert plan_courses_extend(plan=plan_item.plan) == 0  # nothing twice


def test_a_paused_purchase_gets_the_course_paused_and_resumes_it_together(
    plan_item, django_capture_on_commit_callbacks
):
    grant = bought(plan_item)
    purchase_freeze(grant=grant, days=3)
    geometry = CourseFactory()
    plan_item.plan.courses.add(geometry)
    with django_capture_on_commit_callbacks(execute=True):
        plan_courses_extend(plan=plan_item.plan)
    new = AccessGrant.objects.get(user=grant.user, course=geometry)
    grant.refresh_from_db()
    assert new.frozen_days == grant.frozen_days == 3
    assert new.available_until == grant.available_until
    assert not access_check(user=grant.user, course_id=geometry.id).allowed

    with django_capture_on_commit_callbacks(execute=True):
        purchase_unfreeze(freeze=grant.freezes.get())
    assert access_check(user=grant.user, course_id=geometry.id).allowed
    assert access_check(user=grant.user, course_id=grant.course_id).allowed


def test_a_refund_after_the_extension_ends_every_course_for_the_same_money(plan_item):
    grant = bought(plan_item)
    quote = refund_quote(grant=grant)
    plan_item.plan.courses.add(CourseFactory())
    plan_courses_extend(plan=plan_item.plan)
    assert refund_quote(grant=grant) == quote
    refund_grant(grant=grant, requested_by=grant.user)
    assert not AccessGrant.objects.filter(user=grant.user, is_active=True).exists()


def test_saving_the_plan_in_the_admin_extends_running_purchases(client, plan_item):
    grant = bought(plan_item)
    plan = plan_item.plan
    geometry = CourseFactory()
    client.force_login(StaffFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:billing_plan_change", args=[plan.pk]),
        {
            "title": plan.title,
            "slug": plan.slug,
            "description": "",
            "courses": [*plan.courses.values_list("id", flat=True), geometry.id],
            "duration_days": plan.duration_days,
            "freeze_limit_days": plan.freeze_limit_days,
            "is_published": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert AccessGrant.objects.filter(user=grant.user, course=geometry, is_active=True).exists()
    assert "1 доступ к новому курсу выдан" in response.content.decode()
