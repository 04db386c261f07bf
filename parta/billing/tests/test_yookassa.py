"""YooKassa through its SDK against the fake YooKassa (parta/common/testing/fake_yookassa.py):
the purchase (create with our Idempotence-Key and the receipt, redirect, notification,
grant), a decline, refunds with the refund receipt, replayed, out-of-order and forged
notifications, and notifications that do not match their order."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from parta.access.models import AccessGrant
from parta.billing.models import (
    EventStatus,
    LedgerEntry,
    Order,
    OrderStatus,
    Payment,
    ProviderEvent,
    RefundStatus,
)
from parta.billing.providers import registry
from parta.billing.providers.base import ProviderError, RefundRequest
from parta.billing.services.orders import checkout_start, order_create
from parta.billing.services.refunds import refund_grant
from parta.billing.tests.factories import CourseItemFactory, DiscountFactory
from parta.common.testing.fake_yookassa import FakeYooKassa

WEBHOOK = "/payments/webhook/yookassa/"


@pytest.fixture
def fake():
    with FakeYooKassa() as server:
        yield server


@pytest.fixture
def yookassa(settings, fake):
    settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "yookassa"]
    settings.PARTA_PAYMENT_PROVIDER = "sandbox"
    settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY = {"RUB": "yookassa"}
    settings.YOOKASSA_SHOP_ID = fake.shop_id
    settings.YOOKASSA_SECRET_KEY = fake.secret_key
    settings.YOOKASSA_API_URL = fake.api_url
    # The test client sends from 127.0.0.1; the fake is there too.
    settings.YOOKASSA_NOTIFICATION_IPS = ["127.0.0.1/32"]
    settings.PARTA_RECEIPTS = True
    registry.reset()
    return fake


def notify(client, body: bytes, *, ip: str = "127.0.0.1"):
    return client.post(WEBHOOK, data=body, content_type="application/json", REMOTE_ADDR=ip)


def _bought(client, buyer, fake, **item):
    item = CourseItemFactory(prices={"RUB": 199000}, **item)
    answer = client.get(reverse("billing:buy", args=[item.pk]))
    assert answer.status_code == 200, answer.content
    order = Order.objects.get(user=buyer)
    return order, answer.json()


@pytest.mark.django_db
def test_a_purchase_through_yookassa_grants_access_once(client, buyer, yookassa):
    order, answer = _bought(client, buyer, yookassa, vat_code="vat20")
    assert order.provider == "yookassa"
    payment_id = answer["session_id"]
    assert answer["url"] == f"{yookassa.base_url}/checkout/{payment_id}"
    (create,) = yookassa.calls_to("/v3/payments")
    # Our key, from the order's id and checkout attempt, never the SDK's random one.
    assert create.headers["Idempotence-Key"].startswith(f"parta-order-{order.pk}-")
    sent = create.json()
    assert sent["amount"] == {"value": "1990.00", "currency": "RUB"}
    assert sent["confirmation"]["type"] == "redirect"
    assert sent["metadata"]["order_id"] == str(order.pk)
    assert sent["receipt"]["customer"] == {"email": "buyer@example.com"}
    assert [{**i, "quantity": Decimal(i["quantity"])} for i in sent["receipt"]["items"]] == [
        {
            "description": order.lines.get().title,
            "quantity": 1,
            "amount": {"value": "1990.00", "currency": "RUB"},
            "vat_code": 4,
            "payment_subject": "service",
            "payment_mode": "full_payment",
        }
    ]

    yookassa.pay(payment_id)
    body = yookassa.notification("payment.succeeded", payment_id)
    first = notify(client, body)
    again = notify(client, body)

    assert first.status_code == 200, first.content
    assert first.json()["status"] == EventStatus.PROCESSED
    assert again.json()["status"] == "duplicate"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get(order=order).provider_payment_id == payment_id
    assert AccessGrant.objects.filter(user=buyer).count() == 1
    assert ProviderEvent.objects.filter(provider="yookassa").count() == 1
    # Confirmed through the API before anything changed.
    assert yookassa.calls_to(f"/v3/payments/{payment_id}")


@pytest.mark.django_db
def test_a_coupon_comes_off_the_receipt_lines(client, buyer, yookassa):
    item = CourseItemFactory(prices={"RUB": 100001})
    DiscountFactory(code="THIRD", kind="percent", percent=33)
    order = order_create(user=buyer, item_ids=[item.pk], currency="RUB", coupon="THIRD")
    checkout_start(order=order, base_url="http://testserver")
    receipt = yookassa.calls_to("/v3/payments")[0].json()["receipt"]
    cents = sum(
        round(float(i["amount"]["value"]) * 100) * int(float(i["quantity"]))
        for i in receipt["items"]
    )
    assert cents == order.total < 100001


@pytest.mark.django_db
def test_a_declined_payment_fails_the_order(client, buyer, yookassa):
    order, answer = _bought(client, buyer, yookassa)
    yookassa.decline(answer["session_id"], reason="card_expired")
    response = notify(client, yookassa.notification("payment.canceled", answer["session_id"]))
    assert response.json()["status"] == EventStatus.PROCESSED
    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    assert order.failure_reason == "card_expired"
    assert not AccessGrant.objects.exists()


@pytest.mark.django_db
def test_a_refund_goes_back_with_its_receipt(client, buyer, yookassa):
    _order, answer = _bought(client, buyer, yookassa, vat_code="vat22")
    yookassa.pay(answer["session_id"])
    notify(client, yookassa.notification("payment.succeeded", answer["session_id"]))
    grant = AccessGrant.objects.get(user=buyer)

    refund = refund_grant(grant=grant, requested_by=buyer)

    assert refund.status == RefundStatus.SUCCEEDED
    (call,) = yookassa.calls_to("/v3/refunds")
    assert call.headers["Idempotence-Key"] == f"parta-refund-{refund.pk}"
    sent = call.json()
    assert sent["payment_id"] == answer["session_id"]
    assert sent["amount"]["value"] == f"{refund.amount / 100:.2f}"
    (item,) = sent["receipt"]["items"]
    assert item["vat_code"] == 11
    assert item["amount"]["value"] == sent["amount"]["value"]
    assert refund.provider_refund_id in yookassa.refunds


@pytest.mark.django_db
def test_a_pending_refund_is_settled_by_its_notification(client, buyer, yookassa):
    _order, answer = _bought(client, buyer, yookassa)
    yookassa.pay(answer["session_id"])
    notify(client, yookassa.notification("payment.succeeded", answer["session_id"]))
    yookassa.refund_status = "pending"
    refund = refund_grant(grant=AccessGrant.objects.get(user=buyer), requested_by=buyer)
    assert refund.status == RefundStatus.PENDING

    early = notify(client, yookassa.notification("refund.succeeded", refund.provider_refund_id))
    assert early.status_code == 400  # the API still says pending: nothing stored
    yookassa.settle_refund(refund.provider_refund_id)
    late = notify(client, yookassa.notification("refund.succeeded", refund.provider_refund_id))

    assert late.json()["status"] == EventStatus.PROCESSED
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED


@pytest.mark.django_db
def test_a_late_cancel_of_an_older_checkout_leaves_the_paid_order(client, buyer, yookassa):
    order, answer = _bought(client, buyer, yookassa)
    first = answer["session_id"]
    Order.objects.filter(pk=order.pk).update(
        checkout_expires_at=timezone.now() - timedelta(minutes=1)
    )
    second = checkout_start(order=order, base_url="http://testserver").session.session_id
    keys = [c.headers["Idempotence-Key"] for c in yookassa.calls_to("/v3/payments")]
    assert second != first
    assert len(set(keys)) == 2  # a new attempt, a new key

    yookassa.pay(second)
    yookassa.decline(first)
    assert notify(client, yookassa.notification("payment.succeeded", second)).status_code == 200
    late = notify(client, yookassa.notification("payment.canceled", first))

    assert late.json()["status"] == EventStatus.IGNORED
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert AccessGrant.objects.filter(user=buyer).count() == 1


@pytest.mark.django_db
def test_a_retried_create_gets_the_same_payment(buyer, yookassa):
    item = CourseItemFactory(prices={"RUB": 50000})
    order = order_create(user=buyer, item_ids=[item.pk], currency="RUB")
    first = checkout_start(order=order, base_url="http://testserver").session.session_id
    # As if the first answer had been lost before the order row was saved.
    Order.objects.filter(pk=order.pk).update(checkout_id="", checkout_expires_at=None)
    again = checkout_start(order=order, base_url="http://testserver").session.session_id
    assert again == first
    assert len(yookassa.payments) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("ip", ["203.0.113.7", "185.71.76.100", "::1"])
def test_a_notification_from_elsewhere_is_refused(client, buyer, yookassa, ip):
    order, answer = _bought(client, buyer, yookassa)
    yookassa.pay(answer["session_id"])
    response = notify(
        client, yookassa.notification("payment.succeeded", answer["session_id"]), ip=ip
    )
    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_yookassas_published_networks_are_let_in_and_no_others(settings):
    from config.settings import payments
    from parta.billing.providers.base import InvalidWebhook
    from parta.billing.providers.yookassa import YooKassaProvider

    settings.YOOKASSA_NOTIFICATION_IPS = payments.YOOKASSA_NOTIFICATION_IPS
    provider = YooKassaProvider()
    for ip in ("185.71.76.5", "185.71.77.30", "77.75.156.11", "77.75.154.200", "2a02:5180::1"):
        provider.check_source(ip)
    for ip in ("127.0.0.1", "185.71.76.32", "77.75.156.12", "unknown", ""):
        with pytest.raises(InvalidWebhook):
            provider.check_source(ip)


@pytest.mark.django_db
def test_a_forged_success_is_refused_by_the_api(client, buyer, yookassa):
    order, answer = _bought(client, buyer, yookassa)
    # From an allowed address, but the payment is still pending at YooKassa.
    forged = yookassa.notification("payment.succeeded", answer["session_id"], status="succeeded")
    unknown = json.dumps(
        {
            "type": "notification",
            "event": "payment.succeeded",
            "object": {"id": "2f0c5e3b-000f-5000-9000-1b2d3e4f5a6b", "status": "succeeded"},
        }
    ).encode()
    assert notify(client, forged).status_code == 400
    assert notify(client, unknown).status_code == 400
    assert notify(client, b"not json").status_code == 400
    assert not ProviderEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


@pytest.mark.django_db
def test_an_unreachable_api_leaves_the_notification_for_later(client, buyer, yookassa):
    _order, answer = _bought(client, buyer, yookassa)
    yookassa.pay(answer["session_id"])
    yookassa.fail_next = 1
    body = yookassa.notification("payment.succeeded", answer["session_id"])
    assert notify(client, body).status_code == 503
    assert not ProviderEvent.objects.exists()
    assert notify(client, body).json()["status"] == EventStatus.PROCESSED


@pytest.mark.django_db
def test_a_payment_that_does_not_match_its_order_pays_nothing(client, buyer, yookassa):
    order, answer = _bought(client, buyer, yookassa)
    yookassa.pay(answer["session_id"])
    yookassa.payments[answer["session_id"]]["amount"]["value"] = "1.00"
    response = notify(client, yookassa.notification("payment.succeeded", answer["session_id"]))

    assert response.json()["status"] == EventStatus.FAILED
    event = ProviderEvent.objects.get()
    assert "1\xa0990" in event.error  # the order's total and the payment's, for staff
    assert "(1\xa0₽)" in event.error
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not AccessGrant.objects.exists()
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_a_payment_for_an_unknown_or_foreign_order_pays_nothing(client, buyer, yookassa, settings):
    # A sandbox order: a YooKassa payment naming it is not its payment.
    item = CourseItemFactory(prices={"RUB": 199000})
    foreign = order_create(user=buyer, item_ids=[item.pk], currency="RUB", provider="sandbox")
    provider = registry.get_provider("yookassa")
    for order_id in (foreign.pk, 987654321):
        from yookassa import Payment as SdkPayment

        payment = provider._call(
            SdkPayment.create,
            {
                "amount": {"value": "1990.00", "currency": "RUB"},
                "confirmation": {"type": "redirect", "return_url": "http://testserver/"},
                "capture": True,
                "metadata": {"order_id": str(order_id)},
            },
            idempotency_key=f"test-{order_id}",
        )
        yookassa.pay(payment.id)
        response = notify(client, yookassa.notification("payment.succeeded", payment.id))
        assert response.json()["status"] == EventStatus.FAILED
    assert set(ProviderEvent.objects.values_list("error", flat=True)) == {
        e for e in ProviderEvent.objects.values_list("error", flat=True) if "no order" in e
    }
    foreign.refresh_from_db()
    assert foreign.status == OrderStatus.PENDING
    assert not AccessGrant.objects.exists()
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_a_refused_refund_is_a_clear_error(buyer, yookassa):
    provider = registry.get_provider("yookassa")
    with pytest.raises(ProviderError, match="Payment not found"):
        provider.refund(
            RefundRequest(
                provider_payment_id="2f0c5e3b-000f-5000-9000-1b2d3e4f5a6b",
                amount=100,
                currency="RUB",
                idempotency_key="parta-refund-1",
            )
        )


@pytest.mark.django_db
def test_other_currencies_go_to_the_default_provider(client, buyer, yookassa):
    item = CourseItemFactory(prices={"RUB": 199000, "USD": 2500})
    client.get(reverse("billing:buy", args=[item.pk]) + "?currency=USD")
    assert Order.objects.get(user=buyer).provider == "sandbox"
    assert not yookassa.calls_to("/v3/payments")
