"""Plans that renew themselves through T-Bank (against the fake T-Bank): ``Recurrent=Y``
at the first payment, its ``RebillId`` kept, each renewal an Init and a ``Charge``."""

from __future__ import annotations

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
from parta.billing.services.renewals import renewals_charge
from parta.billing.tests.factories import PlanItemFactory
from parta.common.testing.fake_tbank import tbank_token

pytestmark = pytest.mark.django_db
WEBHOOK = "/payments/webhook/tbank/"


def _subscribed(client, buyer, fake) -> AutoRenewal:
    item = PlanItemFactory(prices={"RUB": 9900})
    answer = client.post(
        reverse("billing:buy", args=[item.pk]),
        {"currency": "RUB", "auto_renew": "1"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.content
    payment_id = answer.json()["session_id"]
    (init,) = fake.calls_to("/v2/Init")
    assert init.json()["Recurrent"] == "Y"
    assert init.json()["CustomerKey"]
    for body in fake.pay(payment_id):
        reply = client.post(WEBHOOK, data=body, content_type="application/json")
        assert reply.content == b"OK"
    renewal = AutoRenewal.objects.get(user=buyer)
    assert renewal.status == RenewalStatus.ACTIVE
    assert renewal.saved_method_id in fake.rebills
    return renewal


def test_a_plan_renews_by_charge_with_the_rebill_id(client, buyer, tbank):
    renewal = _subscribed(client, buyer, tbank)
    assert renewals_charge(now=renewal.next_charge_at) == 1
    (charge,) = tbank.calls_to("/v2/Charge")
    sent = charge.json()
    assert str(sent["RebillId"]) == renewal.saved_method_id
    assert sent["Token"] == tbank_token(sent, tbank.password)
    init = tbank.calls_to("/v2/Init")[-1].json()
    assert init["Amount"] == 297000
    assert "Recurrent" not in init
    assert sum(i["Amount"] for i in init["Receipt"]["Items"]) == 297000
    order = RenewalCharge.objects.get().order
    assert order.status == OrderStatus.PAID
    assert init["OrderId"].startswith(f"{order.pk}-")
    assert AccessGrant.objects.filter(user=buyer).count() == 2
    assert LedgerEntry.objects.filter(order=order).count() == 2


def test_a_declined_charge_at_tbank_counts_a_failure(client, buyer, tbank):
    renewal = _subscribed(client, buyer, tbank)
    tbank.charge_decline = "1051"
    assert renewals_charge(now=renewal.next_charge_at) == 0
    renewal.refresh_from_db()
    assert renewal.failures == 1
    assert renewal.status == RenewalStatus.ACTIVE
    assert "Недостаточно средств" in RenewalCharge.objects.get().failure_reason
    assert AccessGrant.objects.filter(user=buyer).count() == 1


def test_a_removed_rebill_id_is_refused_with_no_grant(client, buyer, tbank):
    renewal = _subscribed(client, buyer, tbank)
    tbank.forget_rebill(renewal.saved_method_id)
    entries = LedgerEntry.objects.count()
    assert renewals_charge(now=renewal.next_charge_at) == 0
    assert "RebillId" in RenewalCharge.objects.get().failure_reason
    assert LedgerEntry.objects.count() == entries
    assert AccessGrant.objects.filter(user=buyer).count() == 1
