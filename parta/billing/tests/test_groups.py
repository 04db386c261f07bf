"""Purchases place buyers in study groups; refunds and expiry free their seats."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from parta.access.models import AccessGrant
from parta.accounts.tests.factories import UserFactory
from parta.billing.services.expiry import grants_expire
from parta.billing.services.plans import plan_courses_extend
from parta.billing.services.refunds import refund_grant
from parta.billing.tests.factories import CourseItemFactory, PlanItemFactory
from parta.billing.tests.helpers import buy_json, pay
from parta.catalog.tests.factories import CourseFactory
from parta.groups.models import EndReason, Membership

pytestmark = pytest.mark.django_db


def buy(item, student=None):
    student = student or UserFactory()
    client = Client()
    client.force_login(student)
    pay(client, buy_json(client, item.pk)["url"])
    return student


def groups_of(student):
    return {
        m.course_id: m.group.number
        for m in Membership.objects.filter(student=student, ended_at=None).select_related("group")
    }


def test_buying_a_course_places_the_buyer():
    item = CourseItemFactory(course=CourseFactory(max_group_size=2))
    first, second, third = buy(item), buy(item), buy(item)
    course_id = item.course_id
    assert [groups_of(s) for s in (first, second, third)] == [
        {course_id: 1},
        {course_id: 1},
        {course_id: 2},
    ]


def test_a_plan_places_in_every_course_and_its_refund_frees_every_seat():
    item = PlanItemFactory()
    item.plan.courses.add(CourseFactory())
    student = buy(item)
    courses = set(item.plan.courses.values_list("id", flat=True))
    assert set(groups_of(student)) == courses
    refund_grant(grant=AccessGrant.objects.filter(user=student).first(), requested_by=student)
    assert groups_of(student) == {}
    ended = Membership.objects.filter(student=student)
    assert {m.end_reason for m in ended} == {EndReason.REFUNDED}
    assert all(m.group.members_count == 0 for m in ended)


def test_a_course_added_to_a_running_plan_places_its_buyers():
    item = PlanItemFactory()
    student = buy(item)
    added = CourseFactory()
    item.plan.courses.add(added)
    plan_courses_extend(plan=item.plan)
    assert added.pk in groups_of(student)


def test_expiry_frees_the_seat():
    item = PlanItemFactory()
    student = buy(item)
    AccessGrant.objects.filter(user=student).update(
        starts_at=timezone.now() - timedelta(days=31),
        available_until=timezone.now() - timedelta(minutes=1),
    )
    assert grants_expire() == 1
    assert groups_of(student) == {}
    assert Membership.objects.get(student=student).end_reason == EndReason.EXPIRED
