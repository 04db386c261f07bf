"""Plans that renew themselves through CloudPayments (against the fake CloudPayments): the
card's token from the Pay notification, each renewal a token charge started by the
merchant (``TrInitiatorCode`` 0) with the receipt."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from parta.access.models import AccessGrant
from parta.billing.models import (
    AutoRenewal,
    LedgerEntry,
    OrderStatus,
    RenewalCharge,
    RenewalStatus,
)
from parta.billing.providers import registry
from parta.billing.services.renewals import renewals_charge
from parta.billing.tests.factories import PlanItemFactory
from parta.billing.tests.test_cloudpayments import notify
from parta.common.testing.fake_cloudpayments import FakeCloudPayments

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloudpayments(settings):
    with FakeCloudPayments() as fake:
        settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "cloudpayments"]
        settings.PARTA_PAYMENT_PROVIDER = "cloudpayments"
        settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY = {}
        settings.CLOUDPAYMENTS_PUBLIC_ID = fake.public_id
        settings.CLOUDPAYMENTS_API_SECRET = fake.api_secret
        settings.CLOUDPAYMENTS_API_URL = fake.base_url
        settings.PARTA_RECEIPTS = True
        registry.reset()
        yield fake


def _subscribed(client, buyer, fake) -> AutoRenewal:
    item = PlanItemFactory(prices={"RUB": 9900})
    answer = client.post(
        reverse("billing:buy", args=[item.pk]),
        {"currency": "RUB", "auto_renew": "1"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.content
    (create,) = fake.calls_to("/orders/create")
    assert create.json()["AccountId"] == buyer.email
    assert notify(client, fake.pay(answer.json()["session_id"])).json() == {"code": 0}
    renewal = AutoRenewal.objects.get(user=buyer)
    assert renewal.status == RenewalStatus.ACTIVE
    assert renewal.saved_method_id == "tk_fake"
    return renewal


def test_a_plan_renews_by_its_card_token(client, buyer, cloudpayments):
    renewal = _subscribed(client, buyer, cloudpayments)
    assert renewals_charge(now=renewal.next_charge_at) == 1
    (charge,) = cloudpayments.calls_to("/payments/tokens/charge")
    sent = charge.json()
    assert sent["Token"] == "tk_fake"
    assert sent["AccountId"] == buyer.email
    assert sent["TrInitiatorCode"] == 0
    assert charge.headers["X-Request-ID"] == f"parta-renewal-{renewal.pk}-period-2-try-1"
    receipt = sent["JsonData"]["CloudPayments"]["CustomerReceipt"]
    assert sum(Decimal(str(i["amount"])) for i in receipt["Items"]) == Decimal("2970")
    order = RenewalCharge.objects.get().order
    assert order.status == OrderStatus.PAID
    assert AccessGrant.objects.filter(user=buyer).count() == 2
    assert LedgerEntry.objects.filter(order=order).count() == 2


def test_a_declined_token_charge_counts_a_failure(client, buyer, cloudpayments):
    renewal = _subscribed(client, buyer, cloudpayments)
    cloudpayments.charge_decline = 5051
    assert renewals_charge(now=renewal.next_charge_at) == 0
    renewal.refresh_from_db()
    assert renewal.failures == 1
    assert renewal.status == RenewalStatus.ACTIVE
    assert "5051" in RenewalCharge.objects.get().failure_reason


def test_a_removed_token_ends_the_renewal_with_nothing_charged(client, buyer, cloudpayments):
    renewal = _subscribed(client, buyer, cloudpayments)
    cloudpayments.forget_token("tk_fake")
    entries = LedgerEntry.objects.count()
    assert renewals_charge(now=renewal.next_charge_at) == 0
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ENDED
    assert "Token not found" in renewal.outcome
    assert LedgerEntry.objects.count() == entries
    assert AccessGrant.objects.filter(user=buyer).count() == 1
