"""Plans that renew themselves through YooKassa (its SDK against the fake YooKassa): the
card saved with ``save_payment_method``, the renewal charged by ``payment_method_id``
with our Idempotence-Key and the receipt, declines, and a method deleted at YooKassa."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from parta.access.models import AccessGrant
from parta.billing.models import (
    AutoRenewal,
    LedgerEntry,
    Order,
    OrderStatus,
    Payment,
    RenewalCharge,
    RenewalStatus,
)
from parta.billing.providers import registry
from parta.billing.providers.base import ChargeRequest
from parta.billing.services.renewals import CHARGE_BEFORE, renewals_charge
from parta.billing.tests.factories import PlanItemFactory
from parta.billing.tests.test_yookassa import notify
from parta.common.testing.fake_yookassa import FakeYooKassa

pytestmark = pytest.mark.django_db


@pytest.fixture
def yookassa(settings):
    with FakeYooKassa() as fake:
        settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "yookassa"]
        settings.PARTA_PAYMENT_PROVIDER = "sandbox"
        settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY = {"RUB": "yookassa"}
        settings.YOOKASSA_SHOP_ID = fake.shop_id
        settings.YOOKASSA_SECRET_KEY = fake.secret_key
        settings.YOOKASSA_API_URL = fake.api_url
        settings.YOOKASSA_NOTIFICATION_IPS = ["127.0.0.1/32"]
        settings.PARTA_RECEIPTS = True
        registry.reset()
        yield fake


def _charges(fake) -> list:
    return [c for c in fake.calls_to("/v3/payments") if "payment_method_id" in c.json()]


def _subscribed(client, buyer, fake) -> AutoRenewal:
    item = PlanItemFactory(prices={"RUB": 9900})
    answer = client.post(
        reverse("billing:buy", args=[item.pk]),
        {"currency": "RUB", "auto_renew": "1"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.content
    payment_id = answer.json()["session_id"]
    (create,) = fake.calls_to("/v3/payments")
    assert create.json()["save_payment_method"] is True
    fake.pay(payment_id)
    assert notify(client, fake.notification("payment.succeeded", payment_id)).status_code == 200
    renewal = AutoRenewal.objects.get(user=buyer)
    assert renewal.status == RenewalStatus.ACTIVE
    assert renewal.saved_method_id == payment_id
    assert renewal.provider == "yookassa"
    return renewal


def test_a_plan_renews_by_its_saved_method(client, buyer, yookassa):
    renewal = _subscribed(client, buyer, yookassa)
    end = max(g.available_until for g in AccessGrant.objects.filter(user=buyer))
    assert renewal.next_charge_at == end - CHARGE_BEFORE

    assert renewals_charge(now=renewal.next_charge_at) == 1
    assert renewals_charge(now=renewal.next_charge_at + timedelta(hours=1)) == 0
    (charge,) = _charges(yookassa)
    sent = charge.json()
    assert sent["payment_method_id"] == renewal.saved_method_id
    assert "confirmation" not in sent  # no buyer to confirm
    assert sent["amount"] == {"value": "2970.00", "currency": "RUB"}
    assert charge.headers["Idempotence-Key"] == f"parta-renewal-{renewal.pk}-period-2-try-1"
    lines = sent["receipt"]["items"]
    total = sum(Decimal(i["amount"]["value"]) * Decimal(i["quantity"]) for i in lines)
    assert total == Decimal("2970.00")

    order = RenewalCharge.objects.get().order
    assert order.status == OrderStatus.PAID
    payment = Payment.objects.get(order=order)
    grant = AccessGrant.objects.get(user=buyer, note__startswith=f"order #{order.pk}:")
    assert grant.starts_at == end
    # YooKassa tells about the charge too: the order is paid already, nothing doubles.
    notify(client, yookassa.notification("payment.succeeded", payment.provider_payment_id))
    assert AccessGrant.objects.filter(user=buyer).count() == 2
    assert LedgerEntry.objects.filter(order=order).count() == 2


def test_the_same_key_is_the_same_payment_at_yookassa(client, buyer, yookassa):
    renewal = _subscribed(client, buyer, yookassa)
    provider = registry.get_provider("yookassa")
    request = ChargeRequest(
        order_id=renewal.first_order_id,
        currency="RUB",
        amount=100,
        saved_method_id=renewal.saved_method_id,
        idempotency_key=f"parta-renewal-{renewal.pk}-period-2-try-1",
    )
    first, again = provider.charge(request), provider.charge(request)
    assert first.succeeded
    assert first.payment_id == again.payment_id
    assert len(yookassa.payments) == 2  # the first purchase and one charge


def test_a_declined_charge_at_yookassa_is_tried_again(client, buyer, yookassa):
    renewal = _subscribed(client, buyer, yookassa)
    yookassa.charge_decline = "insufficient_funds"
    assert renewals_charge(now=renewal.next_charge_at) == 0
    renewal.refresh_from_db()
    assert renewal.failures == 1
    assert renewal.status == RenewalStatus.ACTIVE
    assert "insufficient_funds" in renewal.outcome
    yookassa.charge_decline = ""
    assert renewals_charge(now=renewal.next_charge_at) == 1
    keys = [c.headers["Idempotence-Key"] for c in _charges(yookassa)]
    assert keys == [
        f"parta-renewal-{renewal.pk}-period-2-try-1",
        f"parta-renewal-{renewal.pk}-period-2-try-2",
    ]
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 2


def test_a_method_deleted_at_yookassa_ends_the_renewal_with_nothing_charged(
    client, buyer, yookassa
):
    renewal = _subscribed(client, buyer, yookassa)
    yookassa.forget_method(renewal.saved_method_id)
    entries = LedgerEntry.objects.count()
    assert renewals_charge(now=renewal.next_charge_at) == 0
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ENDED
    assert "payment method is gone" in renewal.outcome
    assert LedgerEntry.objects.count() == entries
    assert AccessGrant.objects.filter(user=buyer).count() == 1
    assert RenewalCharge.objects.get().order.status == OrderStatus.FAILED


def test_revoked_permission_ends_the_renewal_at_once(client, buyer, yookassa):
    renewal = _subscribed(client, buyer, yookassa)
    yookassa.charge_decline = "permission_revoked"
    renewals_charge(now=renewal.next_charge_at)
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ENDED
    assert renewal.failures == 0
