"""Plans that renew themselves through Stripe (its SDK against localstripe and the shim in
stripe_peer.py): the card saved to the order's Customer with ``setup_future_usage``, the
renewal charged by an off-session PaymentIntent with our idempotency key, declines, a
charge that needs the buyer, and a card or Customer gone at Stripe."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import stripe
from django.urls import reverse

from parta.access.models import AccessGrant
from parta.billing.models import (
    AutoRenewal,
    LedgerEntry,
    Order,
    OrderStatus,
    Payment,
    RenewalCharge,
    RenewalChargeStatus,
    RenewalStatus,
)
from parta.billing.providers import registry
from parta.billing.providers.base import ChargeRequest
from parta.billing.services.renewals import (
    CHARGE_BEFORE,
    UNREACHABLE_RETRY,
    renewal_cancel,
    renewal_supported,
    renewals_charge,
)
from parta.billing.tests.factories import PlanItemFactory
from parta.billing.tests.stripe_peer import StripeShim
from parta.billing.tests.stripe_webhooks import event_body, sign_webhook, stripe_event
from parta.common.testing.processes import free_port

pytestmark = pytest.mark.django_db

USD_KEYS = ["pk_test_usd", "sk_test_usd", "whsec_usd"]
WEBHOOK = reverse("billing:webhook", args=["stripe"])


@pytest.fixture
def stripe_on(settings, stripe_api_base):
    """Stripe takes USD (through the shim); the sandbox takes the rest."""
    settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "stripe"]
    settings.PARTA_PAYMENT_PROVIDER = "sandbox"
    settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY = {"USD": "stripe"}
    settings.PARTA_CURRENCIES = ["RUB", "USD"]
    settings.STRIPE_KEYS_USD = USD_KEYS
    settings.STRIPE_API_BASE = stripe_api_base
    settings.STRIPE_FLOW = "checkout"
    registry.reset()
    return settings


def looking_glass(shim: StripeShim) -> stripe.StripeClient:
    """How a test looks into the Stripe account behind the USD keys."""
    return stripe.StripeClient(USD_KEYS[1], base_addresses={"api": shim.url})


def notify(client, event_type: str, obj: dict):
    body = event_body(stripe_event(event_type, obj))
    signature = sign_webhook(body, USD_KEYS[2])["Stripe-Signature"]
    return client.post(
        WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def off_session_charges(shim: StripeShim) -> list:
    return [
        c
        for c in shim.calls_to("POST", "/v1/payment_intents")
        if c.params.get("off_session") == "true"
    ]


def ask_for_renewal(client) -> dict:
    item = PlanItemFactory(prices={"USD": 100})  # 1.00 a day: 30.00 a month
    answer = client.post(
        reverse("billing:buy", args=[item.pk]),
        {"currency": "USD", "auto_renew": "1"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.content
    return answer.json()


def subscribed(client, buyer, shim: StripeShim) -> AutoRenewal:
    """A plan bought with auto-renewal on Stripe Checkout, and the paid event."""
    answer = ask_for_renewal(client)
    order_id = answer["order_id"]
    (customer_call,) = shim.calls_to("POST", "/v1/customers")
    assert customer_call.idempotency_key == f"parta-customer-order-{order_id}"
    assert customer_call.params["email"] == buyer.email
    (session_call,) = shim.calls_to("POST", "/v1/checkout/sessions")
    customer = session_call.params["customer"]
    assert customer.startswith("cus_")
    assert session_call.params["payment_intent_data"] == {"setup_future_usage": "off_session"}
    assert "customer_email" not in session_call.params  # Stripe takes one of the two

    session = shim.pay(answer["session_id"])
    assert notify(client, "checkout.session.completed", session).status_code == 200

    intent = looking_glass(shim).v1.payment_intents.retrieve(session["payment_intent"])
    assert intent.setup_future_usage == "off_session"
    card = looking_glass(shim).v1.payment_methods.retrieve(intent.payment_method)
    assert card.customer == customer  # Stripe kept the card on the Customer
    renewal = AutoRenewal.objects.get(user=buyer)
    assert renewal.status == RenewalStatus.ACTIVE
    assert renewal.provider == "stripe"
    assert renewal.saved_method_id == f"{customer}:{card.id}"
    return renewal


def card_of(renewal: AutoRenewal) -> str:
    return renewal.saved_method_id.split(":")[1]


def test_a_plan_sold_through_stripe_offers_auto_renewal(client, buyer, stripe_on):
    item = PlanItemFactory(prices={"USD": 100})

    page = client.get(reverse("billing:item", args=[item.pk])).content.decode()

    assert renewal_supported(provider="stripe")
    assert 'name="auto_renew"' in page


def test_a_plan_bought_on_stripe_renews_by_an_off_session_payment(
    client, buyer, stripe_on, stripe_shim
):
    renewal = subscribed(client, buyer, stripe_shim)
    end = max(g.available_until for g in AccessGrant.objects.filter(user=buyer))
    assert renewal.next_charge_at == end - CHARGE_BEFORE
    assert renewals_charge(now=renewal.next_charge_at - timedelta(hours=1)) == 0

    assert renewals_charge(now=renewal.next_charge_at) == 1
    assert renewals_charge(now=renewal.next_charge_at + timedelta(hours=1)) == 0
    (call,) = off_session_charges(stripe_shim)
    customer, card = renewal.saved_method_id.split(":")
    order = RenewalCharge.objects.get().order
    assert call.params == {
        "amount": "3000",
        "currency": "usd",
        "customer": customer,
        "payment_method": card,
        "confirm": "true",
        "off_session": "true",
        "metadata": {"parta_order_id": str(order.pk)},
        "description": f"Parta order #{order.pk}",
    }
    assert call.idempotency_key == f"parta-renewal-{renewal.pk}-period-2-try-1"
    assert call.api_key == USD_KEYS[1]

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    payment = Payment.objects.get(order=order)
    intent = looking_glass(stripe_shim).v1.payment_intents.retrieve(payment.provider_payment_id)
    assert (intent.status, intent.amount_received, intent.customer) == (
        "succeeded",
        3000,
        customer,
    )
    grant = AccessGrant.objects.get(user=buyer, note__startswith=f"order #{order.pk}:")
    assert grant.starts_at == end
    assert LedgerEntry.objects.filter(order=order).count() == 2  # paid in, spent
    renewal.refresh_from_db()
    assert (renewal.period, renewal.failures) == (2, 0)
    assert renewal.next_charge_at == grant.available_until - CHARGE_BEFORE
    # Stripe tells about the charge too: the order is paid already, nothing doubles.
    assert notify(client, "payment_intent.succeeded", intent.to_dict()).status_code == 200
    assert AccessGrant.objects.filter(user=buyer).count() == 2
    assert LedgerEntry.objects.filter(order=order).count() == 2
    assert RenewalCharge.objects.get().status == RenewalChargeStatus.SUCCEEDED


def test_the_same_key_is_the_same_payment_intent_at_stripe(client, buyer, stripe_on, stripe_shim):
    renewal = subscribed(client, buyer, stripe_shim)
    provider = registry.get_provider("stripe")
    request = ChargeRequest(
        order_id=renewal.first_order_id,
        currency="USD",
        amount=100,
        saved_method_id=renewal.saved_method_id,
        idempotency_key=f"parta-renewal-{renewal.pk}-period-2-try-1",
    )

    first, again = provider.charge(request), provider.charge(request)

    assert first.succeeded
    assert first.payment_id.startswith("pi_")
    assert again.payment_id == first.payment_id
    intents = looking_glass(stripe_shim).v1.payment_intents.list().data
    assert len(intents) == 2  # the purchase and one charge


def test_a_replayed_declined_charge_gets_stripes_first_answer(
    client, buyer, stripe_on, stripe_shim
):
    renewal = subscribed(client, buyer, stripe_shim)
    provider = registry.get_provider("stripe")
    request = ChargeRequest(
        order_id=renewal.first_order_id,
        currency="USD",
        amount=3000,
        saved_method_id=renewal.saved_method_id,
        idempotency_key=f"parta-renewal-{renewal.pk}-period-2-try-1",
    )
    stripe_shim.decline_card(card_of(renewal), "generic_decline")

    first, again = provider.charge(request), provider.charge(request)
    stripe_shim.approve_card(card_of(renewal))
    # Stripe keeps a key's result: the same key is the same decline, a new key a new try.
    later = provider.charge(request)
    retried = provider.charge(replace(request, idempotency_key=request.idempotency_key[:-1] + "2"))

    assert not first.succeeded
    assert not first.method_gone
    assert first.failure_reason == "generic_decline"
    assert first.payment_id.startswith("pi_")
    assert again.payment_id == later.payment_id == first.payment_id
    assert not later.succeeded
    assert retried.succeeded
    assert retried.payment_id != first.payment_id
    assert len(looking_glass(stripe_shim).v1.payment_intents.list().data) == 3


def test_a_declined_renewal_at_stripe_is_tried_again_then_ends(
    client, buyer, stripe_on, stripe_shim
):
    renewal = subscribed(client, buyer, stripe_shim)
    stripe_shim.decline_card(card_of(renewal), "insufficient_funds")
    t0 = renewal.next_charge_at

    assert renewals_charge(now=t0) == 0
    renewal.refresh_from_db()
    assert (renewal.status, renewal.failures) == (RenewalStatus.ACTIVE, 1)
    assert "insufficient_funds" in renewal.outcome
    charge = RenewalCharge.objects.get()
    assert charge.status == RenewalChargeStatus.FAILED
    declined = looking_glass(stripe_shim).v1.payment_intents.retrieve(charge.provider_payment_id)
    assert declined.status == "requires_payment_method"
    assert declined.last_payment_error.decline_code == "insufficient_funds"
    # Stripe's own word on the decline changes nothing: the job has dealt with it.
    assert notify(client, "payment_intent.payment_failed", declined.to_dict()).status_code == 200
    renewal.refresh_from_db()
    assert (renewal.status, renewal.failures) == (RenewalStatus.ACTIVE, 1)
    for day in (2, 4, 7):
        assert renewals_charge(now=t0 + timedelta(days=day)) == 0

    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ENDED
    assert "4 declined" in renewal.outcome
    keys = [c.idempotency_key for c in off_session_charges(stripe_shim)]
    assert keys == [f"parta-renewal-{renewal.pk}-period-2-try-{n}" for n in (1, 2, 3, 4)]
    charge.refresh_from_db()
    assert charge.order.status == OrderStatus.FAILED
    assert not Payment.objects.filter(order=charge.order).exists()
    assert not LedgerEntry.objects.filter(order=charge.order).exists()
    assert AccessGrant.objects.filter(user=buyer).count() == 1
    assert renewals_charge(now=t0 + timedelta(days=60)) == 0


def test_a_renewal_that_needs_the_buyer_is_declined_and_a_later_try_pays(
    client, buyer, stripe_on, stripe_shim
):
    renewal = subscribed(client, buyer, stripe_shim)
    stripe_shim.decline_card(card_of(renewal), "authentication_required")
    t0 = renewal.next_charge_at

    assert renewals_charge(now=t0) == 0
    renewal.refresh_from_db()
    assert renewal.failures == 1
    assert "authentication_required" in renewal.outcome
    stripe_shim.approve_card(card_of(renewal))
    assert renewals_charge(now=t0 + timedelta(days=2)) == 1

    charge = RenewalCharge.objects.get()
    assert (charge.status, charge.attempts) == (RenewalChargeStatus.SUCCEEDED, 2)
    assert charge.order.status == OrderStatus.PAID
    assert Order.objects.count() == 2
    assert AccessGrant.objects.filter(user=buyer).count() == 2


def test_an_expired_card_ends_the_renewal_at_once(client, buyer, stripe_on, stripe_shim):
    renewal = subscribed(client, buyer, stripe_shim)
    stripe_shim.decline_card(card_of(renewal), "expired_card")

    assert renewals_charge(now=renewal.next_charge_at) == 0

    renewal.refresh_from_db()
    assert (renewal.status, renewal.failures) == (RenewalStatus.ENDED, 0)
    assert "payment method is gone (expired_card)" in renewal.outcome


@pytest.mark.parametrize("gone", ["card detached", "customer deleted"])
def test_a_card_gone_at_stripe_ends_the_renewal_with_nothing_charged(
    client, buyer, stripe_on, stripe_shim, gone
):
    renewal = subscribed(client, buyer, stripe_shim)
    customer, card = renewal.saved_method_id.split(":")
    if gone == "card detached":
        stripe_shim.detach(card)  # the buyer removed the card
        why = f"the card {card} is no longer on {customer}"
    else:
        stripe_shim.delete_customer(customer)
        why = f"No such customer: '{customer}'"
    entries = LedgerEntry.objects.count()
    due = renewal.next_charge_at

    assert renewals_charge(now=due) == 0

    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ENDED
    assert renewal.failures == 0
    assert renewal.outcome == f"Not charged: the saved payment method is gone ({why})."
    assert len(off_session_charges(stripe_shim)) == 1
    assert LedgerEntry.objects.count() == entries
    assert AccessGrant.objects.filter(user=buyer).count() == 1
    charge = RenewalCharge.objects.get()
    assert charge.status == RenewalChargeStatus.FAILED
    assert charge.order.status == OrderStatus.FAILED
    assert not Payment.objects.filter(order=charge.order).exists()
    assert renewals_charge(now=due + timedelta(days=3)) == 0


def test_a_cancelled_stripe_renewal_is_never_charged(client, buyer, stripe_on, stripe_shim):
    renewal = subscribed(client, buyer, stripe_shim)
    due = renewal.next_charge_at

    renewal_cancel(renewal=renewal, by=buyer)

    for days in (0, 1, 8, 40):
        assert renewals_charge(now=due + timedelta(days=days)) == 0
    assert off_session_charges(stripe_shim) == []
    assert not RenewalCharge.objects.exists()
    assert Order.objects.count() == 1


def test_an_unreachable_stripe_is_asked_again_with_the_same_key(
    client, buyer, stripe_on, stripe_shim
):
    renewal = subscribed(client, buyer, stripe_shim)
    t0 = renewal.next_charge_at
    stripe_on.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"

    assert renewals_charge(now=t0) == 0

    renewal.refresh_from_db()
    assert (renewal.status, renewal.failures) == (RenewalStatus.ACTIVE, 0)
    assert renewal.next_charge_at == t0 + UNREACHABLE_RETRY
    stripe_on.STRIPE_API_BASE = stripe_shim.url
    assert renewals_charge(now=renewal.next_charge_at) == 1
    (call,) = off_session_charges(stripe_shim)
    assert call.idempotency_key == f"parta-renewal-{renewal.pk}-period-2-try-1"


def test_the_payment_element_saves_the_card_too(client, buyer, stripe_on, stripe_shim):
    stripe_on.STRIPE_FLOW = "payment_intent"
    answer = ask_for_renewal(client)
    (create,) = stripe_shim.calls_to("POST", "/v1/payment_intents")
    assert create.params["setup_future_usage"] == "off_session"
    customer = create.params["customer"]

    # What the Payment Element does on the order page.
    intent = looking_glass(stripe_shim).v1.payment_intents.confirm(
        answer["session_id"], {"payment_method": "pm_card_visa"}
    )
    assert notify(client, "payment_intent.succeeded", intent.to_dict()).status_code == 200

    assert intent.status == "succeeded"
    assert intent.payment_method.startswith("pm_")
    assert intent.payment_method != "pm_card_visa"
    renewal = AutoRenewal.objects.get(user=buyer)
    assert renewal.status == RenewalStatus.ACTIVE
    assert renewal.saved_method_id == f"{customer}:{intent.payment_method}"
    assert renewals_charge(now=renewal.next_charge_at) == 1
    assert RenewalCharge.objects.get().order.status == OrderStatus.PAID


def test_a_checkout_without_renewal_makes_no_customer(client, buyer, stripe_on, stripe_shim):
    item = PlanItemFactory(prices={"USD": 100})
    answer = client.post(
        reverse("billing:buy", args=[item.pk]),
        {"currency": "USD"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.content
    (session_call,) = stripe_shim.calls_to("POST", "/v1/checkout/sessions")
    assert "payment_intent_data" not in session_call.params
    assert session_call.params["customer_email"] == buyer.email
    assert stripe_shim.calls_to("POST", "/v1/customers") == []
    session = stripe_shim.pay(answer.json()["session_id"])
    assert notify(client, "checkout.session.completed", session).status_code == 200
    assert Order.objects.get().status == OrderStatus.PAID
    assert not AutoRenewal.objects.exists()


def test_a_paid_event_is_refused_for_now_while_stripe_cannot_show_the_card(
    client, buyer, stripe_on, stripe_shim
):
    answer = ask_for_renewal(client)
    session = stripe_shim.pay(answer["session_id"])
    stripe_on.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"

    refused = notify(client, "checkout.session.completed", session)

    # 503: Stripe sends the event again later; nothing is paid without the card.
    assert refused.status_code == 503
    assert Order.objects.get().status == OrderStatus.PENDING
    assert AutoRenewal.objects.get().status == RenewalStatus.PENDING
    stripe_on.STRIPE_API_BASE = stripe_shim.url
    assert notify(client, "checkout.session.completed", session).status_code == 200
    assert Order.objects.get().status == OrderStatus.PAID
    assert AutoRenewal.objects.get().status == RenewalStatus.ACTIVE
