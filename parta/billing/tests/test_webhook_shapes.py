"""Correctly signed webhook events of any shape: an unexpected shape is refused (400)
with the reason, and a paid event that names no amount fails like a wrong amount, for
the sandbox and for Stripe. Staff corrections are bounded."""

import json
import uuid

import pytest
from django.urls import reverse

from parta.accounts.tests.factories import StaffFactory
from parta.billing.models import EventStatus, LedgerEntry, Order, OrderStatus, ProviderEvent
from parta.billing.providers import sandbox
from parta.billing.providers.base import EventKind
from parta.billing.services.orders import checkout_start, order_create
from parta.billing.tests.factories import CourseItemFactory
from parta.billing.tests.stripe_webhooks import event_body, sign_webhook, stripe_event
from parta.billing.tests.test_stripe import RUB_KEYS, USD_KEYS, session_object

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_keys(settings):
    """Stripe on with its webhook secrets (no server needed)."""
    settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "stripe"]
    settings.STRIPE_KEYS_RUB = RUB_KEYS
    settings.STRIPE_KEYS_USD = USD_KEYS
    return settings


def _sandbox_post(client, payload) -> tuple[int, dict]:
    body = json.dumps(payload).encode()
    response = client.post(
        reverse("billing:webhook", args=["sandbox"]),
        data=body,
        content_type="application/json",
        headers=sandbox.sign(body),
    )
    return response.status_code, response.json()


def _sandbox_order(buyer) -> Order:
    order = order_create(user=buyer, item_ids=[CourseItemFactory().pk], currency="RUB")
    return checkout_start(order=order).order


def _paid(order: Order, **data) -> dict:
    base = {
        "order_id": order.pk,
        "session_id": order.checkout_id,
        "amount": order.total,
        "currency": "RUB",
        "payment_id": f"sbx_pay_{order.pk}",
    }
    return {"id": f"evt_{uuid.uuid4().hex}", "type": "checkout.paid", "data": {**base, **data}}


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "evt_1", "type": "checkout.paid", "data": "s"},
        {"id": "evt_2", "type": "checkout.paid", "data": [1, 2]},
        {"id": "evt_3", "type": "checkout.paid", "data": None},
        ["not", "an", "object"],
        "just a string",
        {"id": {"x": 1}, "type": "checkout.paid", "data": {}},
        {"id": "evt_4", "type": ["checkout.paid"], "data": {}},
        {"id": "evt_5", "type": "checkout.paid", "data": {"session_id": {"a": 1}}},
        {"id": "evt_6", "type": "checkout.failed", "data": {"reason": ["x"]}},
        {"id": "evt_7", "type": "refund.succeeded", "data": {"refund_id": [1]}},
        # What PostgreSQL would refuse to store: too long, or a NUL character.
        {"id": "e" * 300, "type": "checkout.paid", "data": {}},
        {"id": "evt_8", "type": "t" * 101, "data": {}},
        {"id": "evt_9", "type": "checkout.paid", "data": {"session_id": "a\u0000b"}},
        {"id": "evt_10", "type": "other", "data": {"note": ["\u0000"]}},
        {"id": "evt_11", "type": "checkout.paid", "data": {"payment_id": "p" * 256}},
    ],
    ids=lambda p: json.dumps(p)[:40],
)
def test_signed_sandbox_event_of_the_wrong_shape_is_refused(client, payload):
    status, body = _sandbox_post(client, payload)

    assert status == 400
    if "\\u0000" in json.dumps(payload):
        # The request guard refuses a NUL character before the webhook reads it.
        assert body["code"] == "nul_character"
    else:
        assert body["code"] == "invalid"
        assert body["detail"].startswith("Invalid webhook:")
    assert not ProviderEvent.objects.exists()


@pytest.mark.parametrize(
    "order_id",
    ["abc", [1], {"a": 1}, 2**63, 2**64, -5, 1.5, True],
    ids=str,
)
def test_sandbox_order_id_of_any_shape_finds_no_order_and_fails(client, buyer, order_id):
    payload = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "checkout.paid",
        "data": {"order_id": order_id, "amount": 100, "currency": "RUB"},
    }
    status, body = _sandbox_post(client, payload)

    assert status == 200
    assert body["status"] == EventStatus.FAILED
    assert "no order" in ProviderEvent.objects.get().error


@pytest.mark.parametrize(
    "amount",
    ["missing", None, "199000", 199000.0, "lots", True, [199000], {"v": 199000}],
    ids=str,
)
def test_sandbox_paid_event_without_a_numeric_amount_fails_and_pays_nothing(client, buyer, amount):
    order = _sandbox_order(buyer)
    payload = _paid(order, amount=amount)
    if amount == "missing":
        del payload["data"]["amount"]

    status, body = _sandbox_post(client, payload)

    assert status == 200
    assert body["status"] == EventStatus.FAILED
    event = ProviderEvent.objects.get()
    assert "нет суммы" in event.error
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert not buyer.access_grants.exists()


def test_sandbox_paid_event_with_the_right_amount_still_pays(client, buyer):
    order = _sandbox_order(buyer)

    status, body = _sandbox_post(client, _paid(order))

    assert (status, body["status"]) == (200, EventStatus.PROCESSED)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_wrong_amount_is_named_in_money(client, buyer):
    order = _sandbox_order(buyer)

    _sandbox_post(client, _paid(order, amount=100))

    event = ProviderEvent.objects.get()
    assert event.status == EventStatus.FAILED
    assert "1\u00a0₽" in event.error
    assert "1\u00a0990\u00a0₽" in event.error


# --- Stripe ------------------------------------------------------------------------------


def _stripe_post(client, event: dict) -> tuple[int, dict]:
    body = event_body(event)
    headers = sign_webhook(body, RUB_KEYS[2])
    response = client.post(
        reverse("billing:webhook", args=["stripe"]),
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        ("checkout.session.completed", session_object(metadata="notadict")),
        ("checkout.session.completed", session_object(metadata=["parta_order_id", "77"])),
        ("checkout.session.completed", session_object(id={"x": 1})),
        ("checkout.session.completed", session_object(currency=["rub"])),
        ("checkout.session.completed", session_object(payment_intent=["pi_1"])),
        ("checkout.session.expired", session_object(metadata="notadict")),
        ("payment_intent.succeeded", {"id": "pi_1", "metadata": "notadict", "amount": 1}),
        (
            "payment_intent.payment_failed",
            {"id": "pi_1", "metadata": {"parta_order_id": "77"}, "last_payment_error": "x"},
        ),
        (
            "payment_intent.payment_failed",
            {
                "id": "pi_1",
                "metadata": {"parta_order_id": "77"},
                "last_payment_error": {"message": {"deep": 1}},
            },
        ),
        ("charge.refunded", {"id": "ch_1", "refunds": "notadict"}),
        ("charge.refunded", {"id": "ch_1", "refunds": {"data": "notalist"}}),
        (
            "charge.refunded",
            {
                "id": "ch_1",
                "refunds": {
                    "data": [
                        {"id": "re_1", "status": "succeeded", "created": "soon"},
                        {"id": "re_2", "status": "succeeded", "created": 5},
                    ]
                },
            },
        ),
        ("refund.updated", {"id": ["re_1"], "status": "succeeded"}),
        ("refund.failed", {"id": "re_1", "failure_reason": {"x": 1}}),
    ],
    ids=lambda v: v if isinstance(v, str) else json.dumps(v)[:50],
)
def test_signed_stripe_event_of_the_wrong_shape_never_raises(client, stripe_keys, event_type, obj):
    status, body = _stripe_post(client, stripe_event(event_type, obj))

    # Refused with the reason, or (an order or refund that is not there) stored as failed
    # or ignored; never a 500.
    assert status in (200, 400), body
    if status == 400:
        assert body["detail"].startswith("Invalid webhook:")
        assert not ProviderEvent.objects.exists()
    else:
        assert body["status"] in (EventStatus.FAILED, EventStatus.IGNORED)


@pytest.mark.parametrize("data", ["s", [1], None, {"object": "s"}, {"object": [1]}], ids=str)
def test_signed_stripe_event_without_an_object_is_refused(client, stripe_keys, data):
    event = stripe_event("checkout.session.completed", session_object())
    event["data"] = data

    status, body = _stripe_post(client, event)

    assert status == 400
    assert "unreadable" in body["detail"]


@pytest.mark.parametrize("amount", ["missing", None, "179100", 179100.5, False], ids=str)
def test_stripe_paid_session_without_a_numeric_amount_fails(client, stripe_keys, buyer, amount):
    order = order_create(user=buyer, item_ids=[CourseItemFactory().pk], currency="RUB")
    Order.objects.filter(pk=order.pk).update(checkout_id="cs_test_shape", provider="stripe")
    obj = session_object(
        id="cs_test_shape",
        metadata={"parta_order_id": str(order.pk)},
        client_reference_id=str(order.pk),
        amount_total=amount,
    )
    if amount == "missing":
        del obj["amount_total"]

    status, body = _stripe_post(client, stripe_event("checkout.session.completed", obj))

    assert (status, body["status"]) == (200, EventStatus.FAILED)
    assert "нет суммы" in ProviderEvent.objects.get().error
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert not buyer.access_grants.exists()


def test_stripe_reader_maps_a_good_session_as_before(stripe_keys):
    from parta.billing.providers import registry

    body = event_body(stripe_event("checkout.session.completed", session_object()))
    event = registry.get_provider("stripe").parse_webhook(body, sign_webhook(body, RUB_KEYS[2]))
    assert (event.kind, event.order_id, event.amount) == (EventKind.CHECKOUT_PAID, 77, 179100)


# --- Staff corrections -------------------------------------------------------------------


@pytest.mark.parametrize("amount", [2**63, -(2**63), 2**70, 10**10 * 100 + 1])
def test_adjustment_beyond_the_limit_is_a_400(client, amount):
    from rest_framework.test import APIClient

    staff = StaffFactory()
    api = APIClient()
    api.force_authenticate(staff)
    response = api.post(
        reverse("api:billing-adjustments"),
        {
            "user": staff.pk,
            "currency": "RUB",
            "amount": amount,
            "reason": "typo",
            "key": str(uuid.uuid4()),
        },
        format="json",
    )

    assert response.status_code == 400
    assert "amount" in response.json()["errors"]
    assert "10\u00a0000\u00a0000\u00a0₽" in response.json()["errors"]["amount"][0]
    assert not LedgerEntry.objects.exists()
