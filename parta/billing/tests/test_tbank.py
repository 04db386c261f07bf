"""T-Bank internet acquiring against the fake T-Bank (parta/common/testing/fake_tbank.py):
Init with the receipt and a Token, the notifications T-Bank posts (signed, answered
``OK``), a decline, refunds by Cancel with the refund receipt, replayed, out-of-order and
forged notifications, and notifications that do not match their order."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

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
from parta.billing.providers.base import ProviderError
from parta.billing.providers.tbank import token
from parta.billing.services.orders import checkout_start, order_create
from parta.billing.services.refunds import refund_grant
from parta.billing.tests.factories import CourseItemFactory, DiscountFactory
from parta.common.testing.fake_tbank import FakeTBank, tbank_token

WEBHOOK = "/payments/webhook/tbank/"


@pytest.fixture
def fake():
    with FakeTBank() as server:
        yield server


@pytest.fixture
def tbank(settings, fake):
    settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "tbank"]
    settings.PARTA_PAYMENT_PROVIDER = "sandbox"
    settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY = {"RUB": "tbank"}
    settings.TBANK_TERMINAL_KEY = fake.terminal_key
    settings.TBANK_PASSWORD = fake.password
    settings.TBANK_API_URL = fake.api_url
    settings.PARTA_RECEIPTS = True
    registry.reset()
    return fake


def notify(client, body: bytes):
    return client.post(WEBHOOK, data=body, content_type="application/json")


def _bought(client, buyer, **item):
    item = CourseItemFactory(prices={"RUB": 199000}, **item)
    answer = client.get(reverse("billing:buy", args=[item.pk]))
    assert answer.status_code == 200, answer.content
    return Order.objects.get(user=buyer), answer.json()


def test_the_token_is_the_documented_one():
    # T-Bank's own example: the sorted root values and the password, nested DATA and
    # Receipt left out.
    fields = {
        "TerminalKey": "MerchantTerminalKey",
        "Amount": 19200,
        "OrderId": "21090",
        "Description": "Подарочная карта на 1000 рублей",
        "DATA": {"Phone": "+71234567890"},
        "Receipt": {"Email": "a@test.ru"},
    }
    joined = "19200Подарочная карта на 1000 рублей21090usaf8fw87hw02MerchantTerminalKey"
    import hashlib

    expected = hashlib.sha256(joined.encode()).hexdigest()
    assert token(fields, "usaf8fw87hw02") == expected == tbank_token(fields, "usaf8fw87hw02")
    assert token({**fields, "Success": True}, "p") != token({**fields, "Success": False}, "p")


@pytest.mark.django_db
def test_a_purchase_through_tbank_grants_access_once(client, buyer, tbank):
    order, answer = _bought(client, buyer, vat_code="vat20")
    assert order.provider == "tbank"
    payment_id = answer["session_id"]
    assert answer["url"] == f"{tbank.base_url}/pay/{payment_id}"
    (init,) = tbank.calls_to("/v2/Init")
    sent = init.json()
    assert sent["Amount"] == 199000
    assert sent["OrderId"].startswith(f"{order.pk}-")
    assert sent["NotificationURL"].endswith(WEBHOOK)
    assert sent["Receipt"]["Email"] == "buyer@example.com"
    assert sent["Receipt"]["Items"] == [
        {
            "Name": order.lines.get().title,
            "Price": 199000,
            "Quantity": 1,
            "Amount": 199000,
            "Tax": "vat20",
            "PaymentMethod": "full_payment",
            "PaymentObject": "service",
        }
    ]

    authorized, confirmed = tbank.pay(payment_id)
    first = notify(client, authorized)
    paid = notify(client, confirmed)
    again = notify(client, confirmed)

    assert first.content == b"OK"
    assert paid.status_code == 200
    assert paid.content == b"OK"
    assert again.content == b"OK"
    statuses = dict(ProviderEvent.objects.values_list("type", "status"))
    assert statuses == {"AUTHORIZED": EventStatus.IGNORED, "CONFIRMED": EventStatus.PROCESSED}
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get(order=order).provider_payment_id == payment_id
    assert AccessGrant.objects.filter(user=buyer).count() == 1
    assert registry.get_provider("tbank").state(payment_id) == "CONFIRMED"


@pytest.mark.django_db(transaction=True)
def test_tbank_posts_its_notification_to_the_live_site(live_server, settings, tbank):
    from parta.accounts.tests.factories import UserFactory

    settings.PARTA_SITE_URL = live_server.url
    user = UserFactory(email="live@example.com")
    item = CourseItemFactory(prices={"RUB": 50000})
    order = order_create(user=user, item_ids=[item.pk], currency="RUB")
    payment_id = checkout_start(order=order, base_url=live_server.url).session.session_id
    for body in tbank.pay(payment_id):
        response = tbank.send(payment_id, body)
        assert (response.status_code, response.text) == (200, "OK")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert AccessGrant.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_a_coupon_keeps_the_receipt_equal_to_the_amount(buyer, tbank):
    items = [CourseItemFactory(prices={"RUB": p}) for p in (100001, 33333, 7)]
    DiscountFactory(code="ODD", kind="percent", percent=37)
    order = order_create(user=buyer, item_ids=[i.pk for i in items], currency="RUB", coupon="ODD")
    checkout_start(order=order, base_url="http://testserver")  # the fake refuses a bad sum
    receipt = tbank.calls_to("/v2/Init")[0].json()["Receipt"]
    assert sum(i["Amount"] for i in receipt["Items"]) == order.total


@pytest.mark.django_db
def test_a_declined_payment_fails_the_order(client, buyer, tbank):
    order, answer = _bought(client, buyer)
    response = notify(client, tbank.decline(answer["session_id"]))
    assert response.content == b"OK"
    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    assert "1051" in order.failure_reason
    assert not AccessGrant.objects.exists()


@pytest.mark.django_db
def test_an_expired_payment_page_expires_the_order(client, buyer, tbank):
    order, answer = _bought(client, buyer)
    notify(client, tbank.expire(answer["session_id"]))
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED


@pytest.mark.django_db
def test_a_refund_is_a_cancel_with_its_receipt(client, buyer, tbank):
    _order, answer = _bought(client, buyer, vat_code="vat22")
    notify(client, tbank.pay(answer["session_id"])[1])

    refund = refund_grant(grant=AccessGrant.objects.get(user=buyer), requested_by=buyer)

    assert refund.status == RefundStatus.SUCCEEDED
    (cancel,) = tbank.calls_to("/v2/Cancel")
    sent = cancel.json()
    assert sent["PaymentId"] == answer["session_id"]
    assert sent["Amount"] == refund.amount
    assert sent["ExternalRequestId"] == f"parta-refund-{refund.pk}"
    assert sent["Receipt"]["Items"][0]["Tax"] == "vat22"
    assert sent["Receipt"]["Items"][0]["Amount"] == refund.amount
    assert tbank.payments[answer["session_id"]]["Refunded"] == refund.amount


@pytest.mark.django_db
def test_a_refused_cancel_is_a_clear_error(buyer, tbank):
    from parta.billing.providers.base import RefundRequest

    with pytest.raises(ProviderError, match="Платёж не найден"):
        registry.get_provider("tbank").refund(
            RefundRequest(provider_payment_id="1", amount=100, currency="RUB", idempotency_key="k")
        )


@pytest.mark.django_db
def test_notifications_out_of_order_change_nothing(client, buyer, tbank):
    order, answer = _bought(client, buyer)
    authorized, confirmed = tbank.pay(answer["session_id"])
    assert notify(client, confirmed).content == b"OK"
    late = notify(client, authorized)  # AUTHORIZED after CONFIRMED
    assert late.content == b"OK"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert ProviderEvent.objects.get(type="AUTHORIZED").status == EventStatus.IGNORED
    assert AccessGrant.objects.filter(user=buyer).count() == 1


@pytest.mark.django_db
def test_a_forged_notification_is_refused_and_nothing_stored(client, buyer, tbank):
    order, answer = _bought(client, buyer)
    _authorized, confirmed = tbank.pay(answer["session_id"])
    data = json.loads(confirmed)
    wrong_password = {**data, "Token": tbank_token(data, "not-the-password")}
    changed_amount = {**data, "Amount": 100}  # the old Token no longer fits
    other_terminal = {**data, "TerminalKey": "OTHER"}
    other_terminal["Token"] = tbank_token(other_terminal, tbank.password)
    no_token = {k: v for k, v in data.items() if k != "Token"}
    for forged in (wrong_password, changed_amount, other_terminal, no_token):
        response = notify(client, json.dumps(forged).encode())
        assert response.status_code == 400
    assert notify(client, b"{not json").status_code == 400
    assert not ProviderEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


@pytest.mark.django_db
def test_a_notification_that_does_not_match_pays_nothing(client, buyer, tbank):
    order, answer = _bought(client, buyer)
    # Signed by T-Bank, but for another amount, and for orders Parta does not have.
    wrong_amount = tbank.pay(answer["session_id"])[1]
    data = json.loads(wrong_amount)
    cases = [
        {**data, "Amount": 100},
        {**data, "PaymentId": 1, "OrderId": "987654321-00000000"},
    ]
    sandbox_order = order_create(
        user=buyer, item_ids=[CourseItemFactory().pk], currency="RUB", provider="sandbox"
    )
    cases.append({**data, "PaymentId": 2, "OrderId": f"{sandbox_order.pk}-00000000"})
    for case in cases:
        case["Token"] = tbank_token(case, tbank.password)
        response = notify(client, json.dumps(case).encode())
        assert response.content == b"OK"  # stored for staff; T-Bank need not send it again
    errors = list(ProviderEvent.objects.values_list("status", "error"))
    assert [status for status, _error in errors] == [EventStatus.FAILED] * 3
    assert sum("no order" in error for _status, error in errors) == 2
    order.refresh_from_db()
    sandbox_order.refresh_from_db()
    assert order.status == sandbox_order.status == OrderStatus.PENDING
    assert not AccessGrant.objects.exists()
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_a_bad_token_from_tbank_itself_is_an_error(buyer, tbank, settings):
    settings.TBANK_PASSWORD = "wrong"
    registry.reset()
    item = CourseItemFactory()
    order = order_create(user=buyer, item_ids=[item.pk], currency="RUB")
    from parta.common.errors import ApplicationError

    with pytest.raises(ApplicationError, match="Неверный токен"):
        checkout_start(order=order, base_url="http://testserver")
    order.refresh_from_db()
    assert order.checkout_id == ""


@pytest.mark.django_db
def test_an_unreachable_tbank_is_a_retryable_error(buyer, tbank):
    tbank.fail_next = 1
    with pytest.raises(ProviderError) as caught:
        registry.get_provider("tbank").state("1")
    assert caught.value.retryable


@pytest.mark.django_db
def test_a_notification_names_the_rebill_id_for_later(buyer, tbank):
    order = order_create(user=buyer, item_ids=[CourseItemFactory().pk], currency="RUB")
    payment_id = checkout_start(order=order, base_url="http://testserver").session.session_id
    data = json.loads(tbank.pay(payment_id)[1])
    data["RebillId"] = 145919
    data["Token"] = tbank_token(data, tbank.password)
    event = registry.get_provider("tbank").parse_webhook(json.dumps(data).encode(), {})
    assert (event.saved_method_id, event.session_id, event.amount) == (
        "145919",
        payment_id,
        order.total,
    )
