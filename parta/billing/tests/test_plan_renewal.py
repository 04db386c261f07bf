"""A plan bought again while its period runs extends it instead of running alongside."""

from datetime import timedelta

import pytest
from django.utils import timezone

from parta.access.models import AccessGrant
from parta.billing.services.expiry import grants_expire
from parta.billing.tests.factories import PlanItemFactory
from parta.billing.tests.helpers import buy_json, pay
from parta.groups.models import Membership
from parta.notifications.models import Message

pytestmark = pytest.mark.django_db


def _buy(client, item):
    body = buy_json(client, item.pk)
    assert body["status"] == 200, body
    return pay(client, body["url"])


def test_buying_a_running_plan_again_starts_the_new_period_at_the_old_end(client, buyer):
    item = PlanItemFactory()
    _buy(client, item)
    first = AccessGrant.objects.get(user=buyer)
    _buy(client, item)
    second = AccessGrant.objects.filter(user=buyer).exclude(pk=first.pk).get()
    assert second.starts_at == first.available_until
    assert second.available_until == first.available_until + timedelta(days=30)


def test_the_end_of_the_first_period_tells_nothing_and_keeps_access_and_group(
    client, buyer, django_capture_on_commit_callbacks
):
    item = PlanItemFactory()
    _buy(client, item)
    first = AccessGrant.objects.get(user=buyer)
    _buy(client, item)
    course_id = first.course_id
    later = first.available_until + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert grants_expire(now=later) == 1
    first.refresh_from_db()
    assert not first.is_active
    assert AccessGrant.objects.filter(
        user=buyer,
        course_id=course_id,
        is_active=True,
        starts_at__lte=later,
        available_until__gt=later,
    ).exists()
    assert Membership.objects.filter(
        student=buyer, group__course_id=course_id, ended_at__isnull=True
    ).exists()
    assert not Message.objects.filter(kind="access_ended", user=buyer).exists()


def test_a_plan_bought_after_the_old_one_ended_starts_now(client, buyer):
    item = PlanItemFactory()
    _buy(client, item)
    AccessGrant.objects.filter(user=buyer).update(
        starts_at=timezone.now() - timedelta(days=40),
        available_until=timezone.now() - timedelta(days=10),
    )
    before = timezone.now()
    _buy(client, item)
    latest = AccessGrant.objects.filter(user=buyer).order_by("-available_until").first()
    assert before <= latest.starts_at <= timezone.now()


def test_the_expiry_of_the_last_period_still_tells_the_student(
    client, buyer, django_capture_on_commit_callbacks
):
    item = PlanItemFactory()
    _buy(client, item)
    _buy(client, item)
    last_end = AccessGrant.objects.filter(user=buyer).order_by("-available_until")[0]
    with django_capture_on_commit_callbacks(execute=True):
        assert grants_expire(now=last_end.available_until + timedelta(minutes=1)) == 2
    told = Message.objects.filter(kind="access_ended", user=buyer)
    assert {m.context["available_until"][:19] for m in told} == {
        last_end.available_until.isoformat()[:19]
    }
