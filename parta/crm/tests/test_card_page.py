"""The client card page: what staff and moderators see, who may not, and a query count
that does not grow with the client's history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from parta.access.models import AccessGrant
from parta.access.services import access_freeze_start
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.billing.services.ledger import balance_adjust
from parta.billing.services.offline import offline_payment_record
from parta.billing.tests.factories import CourseItemFactory, PlanItemFactory
from parta.catalog.tests.factories import TaskFactory
from parta.chat.models import Thread
from parta.crm.services import client_message_send
from parta.groups.models import Invitation, LiveSession
from parta.learning.models import TaskProgress

pytestmark = pytest.mark.django_db

# Pinned: the card's queries for staff and for a moderator, whatever the history.
STAFF_QUERIES = 24
MODERATOR_QUERIES = 11


def _history(student, staff, n: int) -> None:
    """n of everything: purchases (grant, order, payment, ledger, receipt), a freeze,
    balance corrections, messages, threads, sessions and answers."""
    for i in range(n):
        item = CourseItemFactory(prices={"RUB": 10000 + i})
        offline_payment_record(
            user=student,
            by=staff,
            method="cash",
            document=f"H-{student.pk}-{i}",
            currency="RUB",
            amount=10000 + i,
            item_id=item.pk,
            reason="history",
        )
        plan_item = PlanItemFactory()
        offline_payment_record(
            user=student,
            by=staff,
            method="transfer",
            document=f"P-{student.pk}-{i}",
            currency="RUB",
            amount=plan_item.prices.get().amount,
            item_id=plan_item.pk,
            reason="history",
        )
        grant = AccessGrant.objects.get(user=student, course__in=plan_item.plan.courses.all())
        access_freeze_start(grant=grant, days=1, by=staff, reason="history")
        balance_adjust(
            user_id=student.pk,
            currency="RUB",
            amount=100,
            reason="history",
            by_id=staff.pk,
            by=staff,
            key=f"h-{student.pk}-{i}",
        )
        client_message_send(
            client=student, by=staff, channel="email", text="hi", reason="x", key=f"m{i}"
        )
        task = TaskFactory(topic__course=item.course)
        TaskProgress.objects.create(
            user=student,
            task=task,
            course=item.course,
            attempts=2,
            solved_at=timezone.now(),
            last_answer_at=timezone.now(),
        )
        Thread.objects.create(
            kind="support", student=student, subject=f"Вопрос {i}", course=item.course
        )
        session = LiveSession.objects.create(
            course=item.course,
            starts_at=timezone.now() + timedelta(days=i),
            duration_minutes=60,
            meeting_url="https://meet.example.com/x",
        )
        Invitation.objects.create(session=session, user=student, attended=bool(i % 2))


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("make_viewer", "pinned"),
    [(StaffFactory, STAFF_QUERIES), (ModeratorFactory, MODERATOR_QUERIES)],
)
def test_the_card_reads_a_fixed_number_of_queries(client, make_viewer, pinned):
    staff = StaffFactory()
    viewer = make_viewer()
    client.force_login(viewer)
    small, large = UserFactory(), UserFactory()
    _history(small, staff, 1)
    _history(large, staff, 4)
    counts = [_count(client, reverse("crm:client", args=[s.pk])) for s in (small, large)]
    assert counts == [pinned, pinned]


def test_staff_see_every_section(client):
    staff = StaffFactory()
    student = UserFactory(full_name="Борис Иванов", phone="+79991234567")
    _history(student, staff, 2)
    client.force_login(staff)
    response = client.get(reverse("crm:client", args=[student.pk]))
    page = response.content.decode()
    card = response.context["card"]
    assert card.money
    assert len(card.grants) == 4
    assert len(card.orders) == 4
    assert len(card.payments) == 4
    assert len(card.ledger) == 10  # 2 x (paid-in, spend) x 2 purchases + 2 corrections
    assert {s.title for s in card.stats} >= {g.course.title for g in card.grants}
    assert any(m.kind == "crm_message" for m in card.notifications)
    assert {e.action for e in card.audit} >= {
        "billing.offline_payment",
        "access.freeze",
        "billing.balance_adjust",
        "crm.message",
    }
    for section in (
        "balance",
        "grants",
        "orders",
        "payments",
        "ledger",
        "stats",
        "groups",
        "sessions",
        "threads",
        "notifications",
        "audit",
    ):
        assert f'id="{section}"' in page, section
    actions = {form.action for form in response.context["forms"]}
    assert actions == {
        "grant",
        "offline-payment",
        "freeze",
        "unfreeze",
        "refund",
        "adjust",
        "move",
        "message",
    }
    assert 'data-testid="balance-RUB"' in page


def test_moderators_see_the_learning_parts_and_no_money(client):
    staff = StaffFactory()
    student = UserFactory()
    _history(student, staff, 1)
    client.force_login(ModeratorFactory())
    response = client.get(reverse("crm:client", args=[student.pk]))
    page = response.content.decode()
    card = response.context["card"]
    assert not card.money
    assert card.orders == []
    assert card.payments == []
    assert card.ledger == []
    assert card.audit == []
    for section in ("stats", "groups", "sessions", "threads"):
        assert f'id="{section}"' in page
    for section in ("balance", "grants", "orders", "payments", "ledger", "notifications", "audit"):
        assert f'id="{section}"' not in page, section
    assert "₽" not in page
    assert {form.action for form in response.context["forms"]} == {"move", "message"}


def test_students_get_403_and_visitors_sign_in(client):
    student = UserFactory()
    url = reverse("crm:client", args=[student.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert "login" in response.url
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    client.force_login(student)
    assert client.get(url).status_code == 403


def test_staff_have_no_client_card(client):
    client.force_login(StaffFactory())
    assert client.get(reverse("crm:client", args=[ModeratorFactory().pk])).status_code == 404
    assert client.get(reverse("crm:client", args=[999999])).status_code == 404
