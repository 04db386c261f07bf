"""A renewal's charge left undecided is retried while the provider's notification of the
same payment arrives (PostgreSQL, two threads at once): one period added, one payment,
one pair of ledger entries, no deadlock. And T-Bank's two steps: a run that stops
between Init and Charge (or never hears Charge's answer) settles that same payment on
the next run, never a second one (the fake T-Bank drops the connection)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from parta.access.models import AccessGrant
from parta.accounts.tests.factories import UserFactory
from parta.billing.models import (
    AutoRenewal,
    EventStatus,
    LedgerEntry,
    OrderStatus,
    Payment,
    ProviderEvent,
    RenewalCharge,
    RenewalChargeStatus,
    RenewalStatus,
)
from parta.billing.services.renewals import RETRY_AFTER, UNREACHABLE_RETRY, renewals_charge
from parta.billing.tests.factories import PlanItemFactory
from parta.common.testing.concurrency import run_together

WEBHOOK = "/payments/webhook/tbank/"


def _subscribed(fake) -> tuple[AutoRenewal, Client]:
    client = Client()
    client.force_login(UserFactory())
    item = PlanItemFactory(prices={"RUB": 9900})
    answer = client.post(
        reverse("billing:buy", args=[item.pk]),
        {"currency": "RUB", "auto_renew": "1"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.content
    for body in fake.pay(answer.json()["session_id"]):
        assert client.post(WEBHOOK, data=body, content_type="application/json").content == b"OK"
    renewal = AutoRenewal.objects.get(first_order_id=answer.json()["order_id"])
    assert renewal.status == RenewalStatus.ACTIVE
    return renewal, client


def _plan_end(renewal: AutoRenewal):
    return max(
        g.available_until for g in AccessGrant.objects.filter(user=renewal.user, is_active=True)
    )


def _renewal_inits(fake, order_id: int) -> list[str]:
    """The Inits of the renewal's order: the PaymentIds T-Bank made for it."""
    return [
        p["PaymentId"] for p in fake.payments.values() if p["OrderId"].startswith(f"{order_id}-r")
    ]


def _assert_paid_once(renewal: AutoRenewal, payment_id: str, *, end_before) -> None:
    charge = RenewalCharge.objects.get(renewal=renewal)
    order = charge.order
    assert order.status == OrderStatus.PAID
    assert charge.status == RenewalChargeStatus.SUCCEEDED
    assert charge.provider_payment_id == payment_id
    assert list(
        Payment.objects.filter(order=order).values_list("provider_payment_id", flat=True)
    ) == [payment_id]
    assert LedgerEntry.objects.filter(order=order).count() == 2  # paid in, spent: once
    renewal.refresh_from_db()
    assert renewal.period == 2
    assert renewal.current_order == order
    # Exactly one period added to the plan.
    assert _plan_end(renewal) == end_before + timedelta(days=order.lines.get().duration_days)


# -- the retry and the notification at once ---------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("timing", ["together", "notification_during_retry", "retry_later"])
def test_a_retry_and_the_notification_of_the_same_payment_fulfil_it_once(tbank, timing):
    renewal, _client = _subscribed(tbank)
    end_before = _plan_end(renewal)
    due = renewal.next_charge_at
    tbank.charge_status = "AUTHORIZED"  # T-Bank has not decided when Charge answers
    assert renewals_charge(now=due) == 0
    charge = RenewalCharge.objects.get()
    assert charge.status == RenewalChargeStatus.PENDING
    payment_id = charge.provider_payment_id
    assert _renewal_inits(tbank, charge.order_id) == [payment_id]
    assert charge.order.status == OrderStatus.PENDING
    # T-Bank decides, and its notification is on the way while the beat retries.
    body = tbank.confirm(payment_id)
    if timing == "notification_during_retry":
        # The retry holds its locks while T-Bank is slow to answer GetState.
        tbank.delays["/v2/GetState"] = 0.5

    def work(i: int):
        if i == 0:
            if timing == "retry_later":
                time.sleep(0.1)
            return ("retry", renewals_charge(now=due + UNREACHABLE_RETRY))
        if timing == "notification_during_retry":
            time.sleep(0.2)
        reply = Client().post(WEBHOOK, data=body, content_type="application/json")
        return ("notification", reply.status_code, reply.content)

    results, errors = run_together(2, work)
    assert errors == []  # no deadlock, no error on either side
    answers = {r[0]: r[1:] for r in results}
    assert answers["notification"] == (200, b"OK")
    assert answers["retry"][0] in (0, 1)
    _assert_paid_once(renewal, payment_id, end_before=end_before)
    # The event is kept as processed (not failed, not lost), and T-Bank charged once.
    event = ProviderEvent.objects.get(provider="tbank", event_id=f"{payment_id}:CONFIRMED")
    assert event.status in (EventStatus.PROCESSED, EventStatus.IGNORED)
    assert len(tbank.calls_to("/v2/Charge")) == 1
    assert _renewal_inits(tbank, charge.order_id) == [payment_id]
    # Later runs find nothing more to do for this period.
    assert renewals_charge(now=due + UNREACHABLE_RETRY * 2) == 0
    assert RenewalCharge.objects.count() == 1


# -- T-Bank: one payment per charge attempt, whatever dies when ---------------------------


@pytest.mark.django_db
def test_a_lost_answer_to_charge_is_settled_by_get_state_not_a_second_init(tbank):
    renewal, _client = _subscribed(tbank)
    end_before = _plan_end(renewal)
    due = renewal.next_charge_at
    # T-Bank carries the Charge out (the money is taken) and the connection drops.
    tbank.lose_answers["/v2/Charge"] = 1
    assert renewals_charge(now=due) == 0
    charge = RenewalCharge.objects.get()
    (payment_id,) = _renewal_inits(tbank, charge.order_id)
    assert charge.provider_payment_id == payment_id
    assert tbank.payments[payment_id]["Status"] == "CONFIRMED"
    assert charge.order.status == OrderStatus.PENDING
    renewal.refresh_from_db()
    assert renewal.failures == 0
    assert "could not be reached" in renewal.outcome

    assert renewals_charge(now=due + UNREACHABLE_RETRY) == 1
    assert _renewal_inits(tbank, charge.order_id) == [payment_id]  # no second payment
    assert len(tbank.calls_to("/v2/Charge")) == 1  # not charged again
    (state,) = tbank.calls_to("/v2/GetState")[-1:]
    assert str(state.json()["PaymentId"]) == payment_id
    _assert_paid_once(renewal, payment_id, end_before=end_before)


@pytest.mark.django_db
def test_a_run_that_stops_after_init_charges_that_payment_next_time(tbank):
    renewal, _client = _subscribed(tbank)
    end_before = _plan_end(renewal)
    due = renewal.next_charge_at
    # The Init's PaymentId is committed; then the run stops before Charge is sent (here:
    # T-Bank's GetState, asked first, never answers).
    tbank.lose_answers["/v2/GetState"] = 1
    assert renewals_charge(now=due) == 0
    charge = RenewalCharge.objects.get()
    (payment_id,) = _renewal_inits(tbank, charge.order_id)
    assert charge.provider_payment_id == payment_id
    assert tbank.payments[payment_id]["Status"] == "NEW"
    assert tbank.calls_to("/v2/Charge") == []

    assert renewals_charge(now=due + UNREACHABLE_RETRY) == 1
    (sent,) = tbank.calls_to("/v2/Charge")
    assert str(sent.json()["PaymentId"]) == payment_id
    assert _renewal_inits(tbank, charge.order_id) == [payment_id]
    _assert_paid_once(renewal, payment_id, end_before=end_before)


@pytest.mark.django_db
def test_an_init_whose_answer_is_lost_leaves_only_an_unpaid_payment(tbank):
    renewal, _client = _subscribed(tbank)
    end_before = _plan_end(renewal)
    due = renewal.next_charge_at
    # The one window left: T-Bank made the payment but its id never reached us. The next
    # run makes another; the first stays NEW (no money), only one is charged.
    tbank.lose_answers["/v2/Init"] = 1
    assert renewals_charge(now=due) == 0
    charge = RenewalCharge.objects.get()
    assert charge.provider_payment_id == ""
    assert renewals_charge(now=due + UNREACHABLE_RETRY) == 1
    lost, used = _renewal_inits(tbank, charge.order_id)
    assert tbank.payments[lost]["Status"] == "NEW"
    assert tbank.payments[used]["Status"] == "CONFIRMED"
    _assert_paid_once(renewal, used, end_before=end_before)


@pytest.mark.django_db
def test_a_new_attempt_after_a_decline_is_a_new_payment(tbank):
    renewal, _client = _subscribed(tbank)
    due = renewal.next_charge_at
    tbank.charge_decline = "1051"
    assert renewals_charge(now=due) == 0
    charge = RenewalCharge.objects.get()
    assert charge.status == RenewalChargeStatus.FAILED
    (declined,) = _renewal_inits(tbank, charge.order_id)
    assert tbank.payments[declined]["Status"] == "REJECTED"
    tbank.charge_decline = ""
    end_before = _plan_end(renewal)
    assert renewals_charge(now=due + RETRY_AFTER[0]) == 1
    first, second = _renewal_inits(tbank, charge.order_id)
    assert first == declined
    assert tbank.payments[second]["Status"] == "CONFIRMED"
    assert [str(c.json()["PaymentId"]) for c in tbank.calls_to("/v2/Charge")] == [first, second]
    charge.refresh_from_db()
    assert charge.attempts == 2
    _assert_paid_once(renewal, second, end_before=end_before)
