"""CloudPayments against the fake CloudPayments (parta/common/testing/fake_cloudpayments.py):
the order link with its receipt, the Pay, Fail and Refund notifications checked by
Content-HMAC and answered {"code": 0}, refunds with the refund receipt, replayed,
out-of-order and forged notifications, and ones that do not match their order."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

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
from parta.billing.providers.cloudpayments import content_hmac
from parta.billing.services.orders import checkout_start, order_create
from parta.billing.services.refunds import refund_grant
from parta.billing.tests.factories import CourseItemFactory, DiscountFactory
from parta.common.testing.fake_cloudpayments import FakeCloudPayments

WEBHOOK = "/payments/webhook/cloudpayments/"


@pytest.fixture
def fake():
    with FakeCloudPayments() as server:
        yield server


@pytest.fixture
def cloudpayments(settings, fake):
    settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "cloudpayments"]
    settings.PARTA_PAYMENT_PROVIDER = "cloudpayments"
    settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY = {}
    settings.CLOUDPAYMENTS_PUBLIC_ID = fake.public_id
    settings.CLOUDPAYMENTS_API_SECRET = fake.api_secret
    settings.CLOUDPAYMENTS_API_URL = fake.base_url
    settings.PARTA_RECEIPTS = True
    registry.reset()
    return fake


def notify(client, notification: tuple[bytes, dict[str, str]]):
    body, headers = notification
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    extra.pop("HTTP_CONTENT_TYPE")
    return client.post(WEBHOOK, data=body, content_type=headers["Content-Type"], **extra)


def _bought(client, buyer, **item):
    item = CourseItemFactory(prices={"RUB": 199000, "USD": 2500}, **item)
    answer = client.get(reverse("billing:buy", args=[item.pk]))
    assert answer.status_code == 200, answer.content
    return Order.objects.get(user=buyer), answer.json()


@pytest.mark.django_db
@pytest.mark.parametrize("as_json", [False, True])
def test_a_purchase_through_cloudpayments_grants_access_once(
    client, buyer, cloudpayments, as_json
):
    cloudpayments.json_notifications = as_json
    order, answer = _bought(client, buyer, vat_code="vat20")
    assert order.provider == "cloudpayments"
    invoice = answer["session_id"]
    assert invoice.startswith(f"{order.pk}-")
    (create,) = cloudpayments.calls_to("/orders/create")
    assert create.headers["X-Request-ID"] == f"parta-checkout-{invoice}"
    sent = create.json()
    assert (sent["Amount"], sent["Currency"], sent["InvoiceId"]) == (1990.0, "RUB", invoice)
    receipt = sent["JsonData"]["CloudPayments"]["CustomerReceipt"]
    assert receipt["email"] == "buyer@example.com"
    assert receipt["Items"] == [
        {
            "label": order.lines.get().title,
            "price": 1990.0,
            "quantity": 1,
            "amount": 1990.0,
            "vat": 20,
            "method": 4,
            "object": 4,
        }
    ]
    assert answer["url"].startswith(f"{cloudpayments.base_url}/d/")

    paid = cloudpayments.pay(invoice)
    first = notify(client, paid)
    again = notify(client, paid)

    assert first.status_code == 200
    assert first.json() == again.json() == {"code": 0}
    assert ProviderEvent.objects.get().status == EventStatus.PROCESSED
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get(order=order).amount == 199000
    assert AccessGrant.objects.filter(user=buyer).count() == 1


@pytest.mark.django_db
def test_usd_goes_through_the_same_terminal(client, buyer, cloudpayments):
    item = CourseItemFactory(prices={"RUB": 199000, "USD": 2599})
    answer = client.get(reverse("billing:buy", args=[item.pk]) + "?currency=USD").json()
    order = Order.objects.get(user=buyer)
    assert order.currency == "USD"
    notify(client, cloudpayments.pay(answer["session_id"]))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


@pytest.mark.django_db
def test_a_coupon_keeps_the_receipt_equal_to_the_amount(buyer, cloudpayments):
    items = [CourseItemFactory(prices={"RUB": p}) for p in (99999, 1, 12345)]
    DiscountFactory(code="ODD", kind="percent", percent=41)
    order = order_create(user=buyer, item_ids=[i.pk for i in items], currency="RUB", coupon="ODD")
    checkout_start(order=order, base_url="http://testserver")  # the fake refuses a bad sum
    (created,) = cloudpayments.orders.values()
    assert round(sum(i["amount"] for i in created["Receipt"]["Items"]) * 100) == order.total


@pytest.mark.django_db
def test_a_declined_payment_fails_the_order(client, buyer, cloudpayments):
    order, answer = _bought(client, buyer)
    response = notify(client, cloudpayments.decline(answer["session_id"]))
    assert response.json() == {"code": 0}
    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    assert "5051" in order.failure_reason
    assert not AccessGrant.objects.exists()


@pytest.mark.django_db
def test_a_refund_carries_its_receipt_and_its_notification_is_harmless(
    client, buyer, cloudpayments
):
    _order, answer = _bought(client, buyer, vat_code="vat22")
    notify(client, cloudpayments.pay(answer["session_id"]))

    refund = refund_grant(grant=AccessGrant.objects.get(user=buyer), requested_by=buyer)

    assert refund.status == RefundStatus.SUCCEEDED
    (call,) = cloudpayments.calls_to("/payments/refund")
    assert call.headers["X-Request-ID"] == f"parta-refund-{refund.pk}"
    sent = call.json()
    assert round(sent["Amount"] * 100) == refund.amount
    (item,) = sent["JsonData"]["CloudPayments"]["CustomerReceipt"]["Items"]
    assert item["vat"] == 22
    response = notify(client, cloudpayments.refund_notification(int(refund.provider_refund_id)))
    assert response.json() == {"code": 0}
    assert ProviderEvent.objects.get(type="Refund").status == EventStatus.IGNORED
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED


@pytest.mark.django_db
def test_a_late_fail_of_an_older_link_leaves_the_paid_order(client, buyer, cloudpayments):
    order, answer = _bought(client, buyer)
    first = answer["session_id"]
    Order.objects.filter(pk=order.pk).update(
        checkout_expires_at=timezone.now() - timedelta(minutes=1)
    )
    second = checkout_start(order=order, base_url="http://testserver").session.session_id
    assert second != first
    failed_first = cloudpayments.decline(first)
    notify(client, cloudpayments.pay(second))
    late = notify(client, failed_first)

    assert late.json() == {"code": 0}
    assert ProviderEvent.objects.get(type="Fail").status == EventStatus.IGNORED
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


@pytest.mark.django_db
def test_a_forged_notification_is_refused_and_nothing_stored(client, buyer, cloudpayments):
    order, answer = _bought(client, buyer)
    body, headers = cloudpayments.pay(answer["session_id"])
    fields = dict(parse_qsl(body.decode()))
    changed = urlencode({**fields, "Amount": "1.00"}).encode()
    cases = [
        (body, {**headers, "Content-HMAC": content_hmac(body, "another-secret")}),
        (changed, headers),  # the old HMAC no longer fits
        (body, {"Content-Type": headers["Content-Type"]}),  # no HMAC at all
    ]
    for case in cases:
        assert notify(client, case).status_code == 400
    assert not ProviderEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


@pytest.mark.django_db
def test_a_notification_that_does_not_match_pays_nothing(client, buyer, cloudpayments):
    order, answer = _bought(client, buyer)
    body, headers = cloudpayments.pay(answer["session_id"])
    fields = dict(parse_qsl(body.decode()))
    sandbox_order = order_create(
        user=buyer, item_ids=[CourseItemFactory().pk], currency="RUB", provider="sandbox"
    )
    # Signed with the right secret, but not about this order as it is.
    cases = [
        {**fields, "TransactionId": "100", "Amount": "1.00"},
        {**fields, "TransactionId": "101", "Currency": "USD"},
        {**fields, "TransactionId": "102", "InvoiceId": "987654321-00000000"},
        {**fields, "TransactionId": "103", "InvoiceId": f"{sandbox_order.pk}-00000000"},
    ]
    for case in cases:
        signed = urlencode(case).encode()
        response = notify(client, (signed, {**headers, **cloudpayments.sign(signed)}))
        assert response.json() == {"code": 0}
    assert set(ProviderEvent.objects.values_list("status", flat=True)) == {EventStatus.FAILED}
    assert ProviderEvent.objects.count() == 4
    order.refresh_from_db()
    sandbox_order.refresh_from_db()
    assert order.status == sandbox_order.status == OrderStatus.PENDING
    assert not AccessGrant.objects.exists()
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_wrong_keys_are_a_clear_error(buyer, cloudpayments, settings):
    from parta.common.errors import ApplicationError

    settings.CLOUDPAYMENTS_API_SECRET = "wrong"
    order = order_create(user=buyer, item_ids=[CourseItemFactory().pk], currency="RUB")
    with pytest.raises(ApplicationError, match="refused Parta's keys"):
        checkout_start(order=order, base_url="http://testserver")


def test_content_hmac_is_base64_of_hmac_sha256():
    import base64
    import hashlib
    import hmac

    body = json.dumps({"TransactionId": 1}).encode()
    raw = hmac.new(b"secret", body, hashlib.sha256).digest()
    assert content_hmac(body, "secret") == base64.b64encode(raw).decode()


@pytest.mark.django_db
def test_a_pay_notification_names_the_card_token_for_later(buyer, cloudpayments):
    order = order_create(user=buyer, item_ids=[CourseItemFactory().pk], currency="RUB")
    invoice = checkout_start(order=order, base_url="http://testserver").session.session_id
    body, headers = cloudpayments.pay(invoice)
    event = registry.get_provider("cloudpayments").parse_webhook(body, headers)
    assert (event.saved_method_id, event.session_id, event.amount) == (
        "tk_fake",
        invoice,
        order.total,
    )
