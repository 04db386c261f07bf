"""The client card's API: the same visibility and the same actions as the page, with a
confirm flag, a one-time key and 4xx JSON for bad input."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from parta.access.models import AccessGrant
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.audit.models import AuditEntry
from parta.billing.models import BalanceAccount, LedgerEntry, Order, Payment, Refund
from parta.billing.services.offline import offline_payment_record
from parta.billing.tests.factories import CourseItemFactory
from parta.catalog.tests.factories import CourseFactory
from parta.groups.models import Group, Membership
from parta.groups.services import membership_place
from parta.notifications.models import Message

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    api = APIClient()
    token = Token.objects.create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def _url(student, tail: str = "") -> str:
    return f"/api/v1/crm/clients/{student.pk}/{tail}"


def _body(**fields) -> dict:
    return {"reason": "by phone", "key": str(uuid.uuid4()), "confirm": True, **fields}


@pytest.fixture
def staff():
    return StaffFactory()


@pytest.fixture
def student():
    return UserFactory()


def test_the_card_for_staff_and_for_moderators(staff, student):
    offline_payment_record(
        user=student,
        by=staff,
        method="cash",
        document="A-1",
        currency="RUB",
        amount=10000,
        reason="x",
    )
    body = _api(staff).get(_url(student)).json()
    assert body["money"] is True
    assert body["profile"]["id"] == student.pk
    assert body["balances"] == [{"currency": "RUB", "balance": 10000, "held": 0}]
    assert body["payments"][0]["provider"] == "offline"
    assert body["audit"][0]["action"] == "billing.offline_payment"

    body = _api(ModeratorFactory()).get(_url(student)).json()
    assert body["money"] is False
    assert body["balances"] == []
    assert body["payments"] == []
    assert body["audit"] == []


def test_students_get_403_and_anonymous_401(student):
    assert _api(UserFactory()).get(_url(student)).status_code == 403
    assert APIClient().get(_url(student)).status_code == 401
    assert _api(StaffFactory()).get("/api/v1/crm/clients/999999/").status_code == 404


def test_an_offline_payment_asks_for_confirmation_then_pays_once(staff, student):
    item = CourseItemFactory(prices={"RUB": 250000})
    api = _api(staff)
    body = _body(method="transfer", document="77", item=item.pk, currency="RUB", amount=250000)
    body["confirm"] = False
    response = api.post(_url(student, "offline-payments/"), body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "confirmation_required"
    assert "77" in response.json()["summary"]
    assert not Order.objects.exists()

    body["confirm"] = True
    response = api.post(_url(student, "offline-payments/"), body, format="json")
    assert response.status_code == 201, response.json()
    assert Payment.objects.get().provider_payment_id == "transfer:77"
    assert AccessGrant.objects.filter(user=student, course=item.course).exists()

    again = api.post(_url(student, "offline-payments/"), body, format="json")
    assert again.status_code == 409
    other_key = {**body, "key": str(uuid.uuid4())}
    response = api.post(_url(student, "offline-payments/"), other_key, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "document_already_recorded"
    assert Payment.objects.count() == 1
    assert AuditEntry.objects.filter(action="billing.offline_payment").count() == 1


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        (-100, "RUB", "amount"),
        (0, "RUB", "amount"),
        (10**12, "RUB", "amount"),
        (100, "EUR", "currency"),
    ],
)
def test_bad_offline_payments_are_400_json(staff, student, amount, currency, field):
    body = _body(method="cash", document="B-1", currency=currency, amount=amount)
    response = _api(staff).post(_url(student, "offline-payments/"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Order.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("tail", "fields"),
    [
        ("grants/", {"course": 1, "days": 3}),
        ("offline-payments/", {"method": "cash", "document": "1", "currency": "RUB", "amount": 1}),
        ("freezes/", {"grant": 1, "days": 1}),
        ("unfreezes/", {"freeze": 1}),
        ("refunds/", {"grant": 1}),
        ("balance-adjustments/", {"currency": "RUB", "amount": 100}),
    ],
)
def test_money_actions_are_403_for_moderators_and_students(student, tail, fields):
    for user in (ModeratorFactory(), UserFactory()):
        response = _api(user).post(_url(student, tail), _body(**fields), format="json")
        assert response.status_code == 403
    assert not AuditEntry.objects.exists()


def test_grant_freeze_and_refund_through_the_api(staff, student):
    api = _api(staff)
    course = CourseFactory()
    response = api.post(_url(student, "grants/"), _body(course=course.pk, days=10), format="json")
    assert response.status_code == 201, response.json()
    grant = AccessGrant.objects.get(user=student)
    assert AuditEntry.objects.get(action="access.grant").reason == "by phone"

    # A manual course grant has no freeze allowance, and nothing was paid for it.
    response = api.post(_url(student, "freezes/"), _body(grant=grant.pk, days=2), format="json")
    assert response.status_code == 400
    response = api.post(_url(student, "refunds/"), _body(grant=grant.pk), format="json")
    assert response.status_code == 400
    assert not Refund.objects.exists()


def test_freezing_an_expired_grant_is_400(staff, student):
    past = timezone.now() - timedelta(days=40)
    grant = AccessGrant.objects.create(
        user=student,
        course=CourseFactory(),
        source="manual",
        starts_at=past,
        available_until=past + timedelta(days=30),
        freeze_limit_days=10,
    )
    response = _api(staff).post(
        _url(student, "freezes/"), _body(grant=grant.pk, days=2), format="json"
    )
    assert response.status_code == 400
    assert "grant" in response.json()["errors"]
    assert not AuditEntry.objects.exists()


def test_a_top_up_refund_above_what_was_paid_is_400(staff, student):
    offline_payment_record(
        user=student,
        by=staff,
        method="cash",
        document="T-2",
        currency="RUB",
        amount=10000,
        reason="x",
    )
    entry = LedgerEntry.objects.get(kind="topup")
    api = _api(staff)
    response = api.post(
        _url(student, "refunds/"), _body(topup=entry.pk, amount=10001), format="json"
    )
    assert response.status_code == 400
    assert "amount" in response.json()["errors"]
    response = api.post(
        _url(student, "refunds/"), _body(topup=entry.pk, amount=4000), format="json"
    )
    assert response.status_code == 201, response.json()
    assert BalanceAccount.objects.get(user=student).balance == 6000


def test_adjust_below_zero_is_409_and_changes_nothing(staff, student):
    api = _api(staff)
    response = api.post(
        _url(student, "balance-adjustments/"), _body(currency="RUB", amount=-100), format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_funds"
    assert not LedgerEntry.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_moderator_moves_and_messages_through_the_api(student):
    moderator = ModeratorFactory()
    course = CourseFactory()
    AccessGrant.objects.create(
        user=student, course=course, source="manual", starts_at=timezone.now()
    )
    membership_place(student=student, course_id=course.pk)
    current = Membership.objects.get(student=student, ended_at=None)
    target = Group.objects.filter(course=course).exclude(pk=current.group_id).first()
    api = _api(moderator)
    response = api.post(_url(student, "moves/"), _body(group=target.pk), format="json")
    assert response.status_code == 201, response.json()
    assert AuditEntry.objects.get(action="groups.move").actor_id == moderator.pk

    response = api.post(
        _url(student, "moves/"), _body(group=target.pk, override=True), format="json"
    )
    assert response.status_code == 400  # already there; moderators have no override field

    response = api.post(
        _url(student, "messages/"), _body(channel="email", text="Привет!"), format="json"
    )
    assert response.status_code == 201
    assert Message.objects.filter(user=student, kind="crm_message", channel="email").exists()
    response = api.post(
        _url(student, "messages/"), _body(channel="telegram", text="Привет!"), format="json"
    )
    assert response.status_code == 400
    assert "channel" in response.json()["errors"]


def test_the_schema_has_the_card_and_its_actions():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert "get" in paths["/api/v1/crm/clients/{id}/"]
    for tail in (
        "grants",
        "offline-payments",
        "freezes",
        "unfreezes",
        "refunds",
        "balance-adjustments",
        "moves",
        "messages",
    ):
        operation = paths[f"/api/v1/crm/clients/{{id}}/{tail}/"]["post"]
        assert "requestBody" in operation
