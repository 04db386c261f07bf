"""Placement under concurrency, on PostgreSQL: 200 students arriving at once into a
course of groups of 2, directly and as 200 paid sandbox webhooks over loopback HTTP.

Only 16 to 20 database connections are used (threads take the next student as they go),
so the file stays well under a minute and inside the server's connection limit."""

import http.client
import math
from urllib.parse import urlsplit

import pytest
from django.db.models import Count, Q

from parta.access.models import GrantSource
from parta.access.services import access_grant_create, access_grant_deactivate
from parta.accounts.models import User
from parta.billing.models import Order, OrderLine, OrderStatus
from parta.billing.providers import sandbox
from parta.billing.providers.base import EventKind
from parta.billing.services.orders import checkout_start, order_create
from parta.billing.tests.factories import CourseItemFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.concurrency import run_pooled
from parta.groups.models import EndReason, Group, Membership

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

STUDENTS = 200
SIZE = 2


@pytest.fixture(autouse=True)
def _batch_of_three(settings):
    settings.PARTA_GROUPS_BATCH = 3


def students(n: int, prefix: str) -> list[User]:
    return User.objects.bulk_create(
        User(email=f"{prefix}{i}@example.com", full_name=f"Student {i}", password="!")
        for i in range(n)
    )


def assert_groups_never_overfilled(course) -> list[int]:
    """No group above its size, seat counts equal to the rows, no student twice; the
    members per group, in group order."""
    groups = list(
        Group.objects.filter(course=course)
        .annotate(now=Count("memberships", filter=Q(memberships__ended_at=None)))
        .order_by("number")
    )
    assert [g.number for g in groups] == list(range(1, len(groups) + 1))
    assert [g.members_count for g in groups] == [g.now for g in groups]
    assert max(g.now for g in groups) <= course.max_group_size
    twice = (
        Membership.objects.filter(course=course, ended_at=None)
        .values("student")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not twice.exists()
    return [g.now for g in groups]


def assert_exactly_packed(course, placed: int, batch: int = 3) -> None:
    """Full groups only, except what the last batch of K left empty."""
    fill = assert_groups_never_overfilled(course)
    full = placed // SIZE
    assert fill.count(SIZE) == full
    assert sum(fill) == placed
    assert len(fill) == math.ceil(full / batch) * batch
    # Every group not full is empty and belongs to the last batch.
    assert all(n == 0 for n in fill[full:])
    assert len(fill) - full < batch


def test_200_placements_at_once_make_exactly_100_full_groups():
    course = CourseFactory(max_group_size=SIZE)
    people = students(STUDENTS, "placed")

    def place(i):
        return access_grant_create(user=people[i], course=course, source=GrantSource.MANUAL)

    _results, errors = run_pooled(STUDENTS, place, workers=20)
    assert errors == []
    assert_exactly_packed(course, STUDENTS)
    assert Membership.objects.filter(course=course, ended_at=None).count() == STUDENTS


def test_200_paid_webhooks_at_once_over_http_make_exactly_100_full_groups(live_server):
    item = CourseItemFactory(course=CourseFactory(max_group_size=SIZE))
    # One order made by the services (its shape), the rest copied in bulk (set-up speed).
    model = order_create(user=students(1, "model")[0], item_ids=[item.pk], currency="RUB")
    checkout_start(order=model)
    model.refresh_from_db()
    line = model.lines.get()
    orders = Order.objects.bulk_create(
        Order(
            user=buyer,
            currency="RUB",
            subtotal=model.subtotal,
            total=model.total,
            provider="sandbox",
            checkout_id=f"sbx_cs_groups_{buyer.pk}",
            checkout_expires_at=model.checkout_expires_at,
        )
        for buyer in students(STUDENTS - 1, "buyer")
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            item=item,
            item_price=line.item_price,
            title=line.title,
            unit_amount=line.unit_amount,
            total=line.total,
        )
        for order in orders
    )
    bodies = [
        sandbox.event_body(
            EventKind.CHECKOUT_PAID,
            order_id=order.pk,
            session_id=order.checkout_id,
            amount=order.total,
            currency="RUB",
            payment_id=f"sbx_pay_{order.pk}",
        )
        for order in [model, *orders]
    ]
    address = urlsplit(live_server.url)

    def deliver(i):
        # One connection per request: the live server's thread (and its database
        # connection) ends with it.
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        try:
            conn.request(
                "POST",
                "/payments/webhook/sandbox/",
                body=bodies[i],
                headers={"Content-Type": "application/json", **sandbox.sign(bodies[i])},
            )
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    results, errors = run_pooled(STUDENTS, deliver, workers=16)
    assert errors == []
    assert sorted({status for status, _body in results}) == [200], results[:3]
    assert Order.objects.filter(status=OrderStatus.PAID).count() == STUDENTS
    assert_exactly_packed(item.course, STUDENTS)


def test_students_leaving_while_others_arrive_keep_every_count_true():
    course = CourseFactory(max_group_size=SIZE)
    staying = students(60, "staying")
    grants = [
        access_grant_create(user=s, course=course, source=GrantSource.MANUAL) for s in staying
    ]
    arriving = students(60, "arriving")

    def work(i):
        if i % 2:
            return access_grant_deactivate(grant=grants[i], reason=EndReason.REFUNDED)
        return access_grant_create(user=arriving[i], course=course, source=GrantSource.MANUAL)

    _results, errors = run_pooled(60, work, workers=16)
    assert errors == []
    fill = assert_groups_never_overfilled(course)
    assert sum(fill) == 60  # 30 left, 30 came
