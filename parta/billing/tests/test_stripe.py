"""The Stripe provider against localstripe and the shim in stripe_peer.py: payment intents,
checkout sessions with coupons and tax rates, the product catalogue, refunds, a key pair
per currency, signed webhooks, and whole purchases through a live server."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import timedelta

import pytest
import stripe
from django.urls import reverse
from django.utils import timezone

from parta.access.models import AccessGrant
from parta.accounts.tests.factories import UserFactory
from parta.billing.models import (
    Discount,
    Item,
    ItemKind,
    ItemPrice,
    Order,
    OrderStatus,
    Payment,
    ProviderCatalogEntry,
    ProviderEvent,
    RefundStatus,
    TaxRate,
)
from parta.billing.providers import registry
from parta.billing.providers.base import (
    CheckoutLine,
    CheckoutRequest,
    DiscountSpec,
    EventKind,
    InvalidWebhook,
    ProviderError,
    RefundRequest,
    TaxLine,
)
from parta.billing.providers.stripe import StripeProvider
from parta.billing.services.orders import checkout_start, order_create
from parta.billing.services.refunds import refund_grant
from parta.billing.services.webhooks import webhook_receive
from parta.billing.tests.stripe_peer import StripeShim
from parta.billing.tests.stripe_webhooks import (
    event_body,
    send_webhook,
    sign_webhook,
    stripe_event,
)
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.processes import free_port

RUB_KEYS = ["pk_test_rub", "sk_test_rub", "whsec_rub"]
USD_KEYS = ["pk_test_usd", "sk_test_usd", "whsec_usd"]
BASE_URL = "http://testserver"


@pytest.fixture
def stripe_keys(settings):
    """Stripe on, with a key pair for RUB and one for USD (no server needed)."""
    settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "stripe"]
    settings.PARTA_PAYMENT_PROVIDER = "stripe"
    settings.PARTA_CURRENCIES = ["RUB", "USD"]
    settings.STRIPE_KEYS_RUB = RUB_KEYS
    settings.STRIPE_KEYS_USD = USD_KEYS
    settings.STRIPE_FLOW = "checkout"
    registry.reset()
    yield settings
    registry.reset()


@pytest.fixture
def stripe_settings(stripe_keys, stripe_api_base):
    """Stripe on and pointed at the shim in front of localstripe."""
    stripe_keys.STRIPE_API_BASE = stripe_api_base
    return stripe_keys


@pytest.fixture
def provider(stripe_settings) -> StripeProvider:
    found = registry.get_provider("stripe")
    assert isinstance(found, StripeProvider)
    return found


def stripe_client(shim: StripeShim, keys: list[str] = RUB_KEYS) -> stripe.StripeClient:
    """How a test looks into (or acts on) the account behind ``keys``."""
    return stripe.StripeClient(keys[1], base_addresses={"api": shim.url})


def course_price(amount: int = 199000, currency: str = "RUB") -> ItemPrice:
    course = CourseFactory()
    item = Item.objects.create(kind=ItemKind.COURSE, course=course, title=course.title)
    return ItemPrice.objects.create(item=item, currency=currency, amount=amount)


def checkout_request(
    order_id: int, lines: list[CheckoutLine], *, currency: str = "RUB", total: int | None = None
) -> CheckoutRequest:
    return CheckoutRequest(
        order_id=order_id,
        currency=currency,
        lines=lines,
        total=sum(line.unit_amount * line.quantity for line in lines) if total is None else total,
        success_url=f"{BASE_URL}/order/{order_id}/?paid=1",
        cancel_url=f"{BASE_URL}/order/{order_id}/?cancelled=1",
        customer_email="buyer@example.com",
        description=f"Parta order #{order_id}",
    )


# --- Payment intents and refunds ---------------------------------------------------------


@pytest.mark.django_db
def test_payment_intent_is_made_once_and_confirmed_with_a_test_card(
    provider, stripe_settings, stripe_shim
):
    stripe_settings.STRIPE_FLOW = "payment_intent"
    request = checkout_request(41, [CheckoutLine("Balance top-up", 150000)])

    session = provider.create_checkout(request)
    again = provider.create_checkout(request)

    assert session.session_id.startswith("pi_")
    assert again.session_id == session.session_id
    assert session.client_secret.startswith(f"{session.session_id}_secret_")
    assert session.url == reverse("billing:order", args=[41])
    assert session.expires_at > timezone.now() + timedelta(hours=23)
    creates = stripe_shim.calls_to("POST", "/v1/payment_intents")
    assert [c.idempotency_key for c in creates] == ["parta-pi-41", "parta-pi-41"]
    assert creates[0].params["amount"] == "150000"
    assert creates[0].params["currency"] == "rub"
    assert creates[0].params["metadata"] == {"parta_order_id": "41"}

    # What the Payment Element does on the order page.
    intent = stripe_client(stripe_shim).v1.payment_intents.confirm(
        session.session_id, {"payment_method": "pm_card_visa"}
    )

    assert intent.status == "succeeded"
    assert intent.amount_received == 150000
    body = event_body(stripe_event("payment_intent.succeeded", intent.to_dict()))
    event = provider.parse_webhook(body, sign_webhook(body, RUB_KEYS[2]))
    assert event.kind == EventKind.CHECKOUT_PAID
    assert (event.order_id, event.session_id, event.provider_payment_id) == (
        41,
        intent.id,
        intent.id,
    )
    assert (event.amount, event.currency) == (150000, "RUB")


def paid_intent(provider: StripeProvider, shim: StripeShim, order_id: int, amount: int) -> str:
    session = provider.create_checkout(
        checkout_request(order_id, [CheckoutLine("Top-up", amount)])
    )
    stripe_client(shim).v1.payment_intents.confirm(
        session.session_id, {"payment_method": "pm_card_visa"}
    )
    return session.session_id


@pytest.mark.django_db
def test_partial_refunds_until_nothing_is_left(provider, stripe_settings, stripe_shim):
    stripe_settings.STRIPE_FLOW = "payment_intent"
    intent_id = paid_intent(provider, stripe_shim, 42, 150000)

    first = provider.refund(RefundRequest(intent_id, 40000, "RUB", "parta-refund-7"))
    replayed = provider.refund(RefundRequest(intent_id, 40000, "RUB", "parta-refund-7"))
    rest = provider.refund(RefundRequest(intent_id, 110000, "RUB", "parta-refund-8"))

    assert first.succeeded
    assert not first.pending
    assert first.refund_id.startswith("re_")
    assert replayed.refund_id == first.refund_id
    assert rest.succeeded
    assert rest.refund_id != first.refund_id
    refund = stripe_client(stripe_shim).v1.refunds.retrieve(first.refund_id)
    assert (refund.amount, refund.payment_intent) == (40000, intent_id)
    with pytest.raises(ProviderError) as refused:
        provider.refund(RefundRequest(intent_id, 1, "RUB", "parta-refund-9"))
    assert not refused.value.retryable


@pytest.mark.django_db
def test_an_unreachable_stripe_is_a_retryable_error(provider, stripe_settings):
    stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(ProviderError) as failed:
        provider.refund(RefundRequest("pi_missing", 100, "RUB", "parta-refund-1"))

    assert failed.value.retryable


# --- Checkout sessions -------------------------------------------------------------------


@pytest.mark.django_db
def test_checkout_session_carries_the_coupon_and_tax_rates(stripe_settings, stripe_shim):
    user = UserFactory()
    price = course_price(199000)
    Discount.objects.create(code="SPRING", kind="percent", percent=10)
    TaxRate.objects.create(name="НДС", rate_bp=2000, inclusive=False)
    TaxRate.objects.create(name="Local levy", rate_bp=125, inclusive=True)
    order = order_create(user=user, item_ids=[price.item_id], currency="RUB", coupon="spring")

    checkout = checkout_start(order=order, base_url=BASE_URL)

    [sent] = stripe_shim.calls_to("POST", "/v1/checkout/sessions")
    assert sent.params["discounts"] == [{"coupon": "parta-SPRING-RUB"}]
    [line] = sent.params["line_items"]
    assert len(line["tax_rates"]) == 2
    assert sent.params["metadata"] == {"parta_order_id": str(order.pk)}
    assert sent.params["client_reference_id"] == str(order.pk)
    assert sent.params["customer_email"] == user.email
    assert sent.params["success_url"] == f"{BASE_URL}/order/{order.pk}/?paid=1"
    assert sent.idempotency_key.startswith(f"parta-checkout-{order.pk}-")
    client = stripe_client(stripe_shim)
    coupon = client.v1.coupons.retrieve("parta-SPRING-RUB")
    assert (coupon.percent_off, coupon.duration) == (10, "once")
    rates = {r.metadata["parta_key"]: r for r in client.v1.tax_rates.list().auto_paging_iter()}
    assert set(rates) == {"2000:exclusive:НДС", "125:inclusive:Local levy"}
    assert {r.id for r in rates.values()} == set(line["tax_rates"])
    assert rates["125:inclusive:Local levy"].percentage == 1.25
    assert rates["2000:exclusive:НДС"].inclusive is False
    # Stripe's arithmetic comes to Parta's total, to the kopeck.
    session = client.v1.checkout.sessions.retrieve(checkout.session.session_id)
    assert session.amount_total == order.total
    assert session.total_details.amount_discount == order.discount_total
    [item] = client.v1.checkout.sessions.line_items.list(session.id).data
    charged = {tax.rate.display_name: tax.amount for tax in item.taxes}
    assert charged == {tax.name: tax.amount for tax in order.taxes.all()}
    assert checkout.session.url == session.url
    assert checkout.session.expires_at.timestamp() == session.expires_at
    assert (
        timedelta(minutes=35)
        <= checkout.session.expires_at - timezone.now()
        <= timedelta(minutes=66)
    )

    # A second order with the same coupon and taxes makes no new coupon or tax rate.
    other = order_create(
        user=UserFactory(), item_ids=[price.item_id], currency="RUB", coupon="SPRING"
    )
    checkout_start(order=other, base_url=BASE_URL)

    assert len(stripe_shim.calls_to("POST", "/v1/coupons")) == 1
    assert len(stripe_shim.calls_to("POST", "/v1/tax_rates")) == 2


@pytest.mark.django_db
def test_an_edited_coupon_gets_a_coupon_of_its_own(provider, stripe_shim):
    client = stripe_client(stripe_shim)
    client.v1.coupons.create({"id": "parta-AUTUMN-RUB", "percent_off": 5, "duration": "once"})
    request = replace(
        checkout_request(43, [CheckoutLine("Top-up", 100000)], total=80000),
        discount=DiscountSpec(code="AUTUMN", percent=20),
    )

    provider.create_checkout(request)

    [sent] = stripe_shim.calls_to("POST", "/v1/checkout/sessions")
    assert sent.params["discounts"] == [{"coupon": "parta-AUTUMN-RUB-20pct"}]
    assert client.v1.coupons.retrieve("parta-AUTUMN-RUB-20pct").percent_off == 20


@pytest.mark.django_db
def test_a_retry_in_the_same_window_gets_the_same_session(provider, stripe_shim):
    request = checkout_request(44, [CheckoutLine("Top-up", 100000)])

    first = provider.create_checkout(request)
    second = provider.create_checkout(request)

    assert second.session_id == first.session_id
    assert second.expires_at == first.expires_at
    assert len(stripe_shim.sessions) == 1


@pytest.mark.django_db
def test_a_total_stripe_would_not_charge_is_refused(provider, stripe_shim):
    request = checkout_request(45, [CheckoutLine("Top-up", 100000)], total=99999)

    with pytest.raises(ProviderError):
        provider.create_checkout(request)

    [session] = stripe_shim.sessions.values()
    assert session["amount_total"] == 100000
    assert session["status"] == "expired"


@pytest.mark.django_db
def test_products_and_prices_are_made_once(provider, stripe_shim):
    price = course_price(199000)
    line = CheckoutLine("Алгебра", 199000, item_price_id=price.pk)

    provider.create_checkout(checkout_request(46, [line]))
    provider.create_checkout(checkout_request(47, [line]))

    [product_call] = stripe_shim.calls_to("POST", "/v1/products")
    [price_call] = stripe_shim.calls_to("POST", "/v1/prices")
    assert product_call.idempotency_key == f"parta-product-{price.pk}"
    assert price_call.idempotency_key == f"parta-price-{price.pk}-199000"
    entry = ProviderCatalogEntry.objects.get()
    assert (entry.provider, entry.account, entry.item_price, entry.amount) == (
        "stripe",
        "RUB:test",
        price,
        199000,
    )
    sessions = stripe_shim.calls_to("POST", "/v1/checkout/sessions")
    assert [s.params["line_items"][0]["price"] for s in sessions] == [entry.price_id] * 2
    client = stripe_client(stripe_shim)
    assert client.v1.products.retrieve(entry.product_id).name == "Алгебра"

    # Stripe prices are immutable: a new amount is a new price of the same product.
    provider.create_checkout(checkout_request(48, [CheckoutLine("Алгебра", 149000, price.pk)]))

    assert len(stripe_shim.calls_to("POST", "/v1/products")) == 1
    assert len(stripe_shim.calls_to("POST", "/v1/prices")) == 2
    cheaper = ProviderCatalogEntry.objects.get(amount=149000)
    assert cheaper.product_id == entry.product_id
    assert cheaper.price_id != entry.price_id
    stored = client.v1.prices.retrieve(cheaper.price_id)
    assert (stored.unit_amount, stored.currency, stored.product) == (
        149000,
        "rub",
        entry.product_id,
    )

    # A top-up has no catalogue entry: its price goes inline.
    provider.create_checkout(checkout_request(49, [CheckoutLine("Balance top-up", 50000)]))

    assert len(stripe_shim.calls_to("POST", "/v1/prices")) == 2
    topup = stripe_shim.calls_to("POST", "/v1/checkout/sessions")[-1].params["line_items"][0]
    assert topup["price_data"] == {
        "currency": "rub",
        "unit_amount": "50000",
        "product_data": {"name": "Balance top-up"},
    }


@pytest.mark.django_db
def test_the_orders_currency_picks_the_key_pair(provider, stripe_settings, stripe_shim):
    rub = course_price(199000, "RUB")
    usd = course_price(2500, "USD")
    tax = [TaxLine("VAT", 2000, False)]
    for currency, price in (("RUB", rub), ("USD", usd)):
        request = checkout_request(
            50, [CheckoutLine("Course", price.amount, price.pk)], currency=currency
        )
        provider.create_checkout(replace(request, taxes=tax, total=price.amount * 12 // 10))

    keys = {c.params["currency"]: c.api_key for c in stripe_shim.calls_to("POST", "/v1/prices")}
    assert keys == {"rub": "sk_test_rub", "usd": "sk_test_usd"}
    sessions = stripe_shim.calls_to("POST", "/v1/checkout/sessions")
    assert [s.api_key for s in sessions] == ["sk_test_rub", "sk_test_usd"]
    # Separate accounts: each made its own tax rate and knows nothing of the other's.
    assert [c.api_key for c in stripe_shim.calls_to("POST", "/v1/tax_rates")] == [
        "sk_test_rub",
        "sk_test_usd",
    ]
    assert {e.account for e in ProviderCatalogEntry.objects.all()} == {"RUB:test", "USD:test"}
    assert provider.supports("RUB")
    assert provider.supports("usd")
    assert not provider.supports("EUR")
    stripe_settings.STRIPE_KEYS_USD = []
    assert not provider.supports("USD")
    with pytest.raises(ProviderError):
        provider.create_checkout(checkout_request(51, [CheckoutLine("x", 100)], currency="USD"))


# --- Webhooks ----------------------------------------------------------------------------


def session_object(**fields) -> dict:
    return {
        "id": "cs_test_1",
        "object": "checkout.session",
        "amount_total": 179100,
        "currency": "rub",
        "client_reference_id": "77",
        "metadata": {"parta_order_id": "77"},
        "payment_intent": "pi_1",
        "payment_status": "paid",
        "status": "complete",
        **fields,
    }


def test_webhook_signatures_are_verified(stripe_keys):
    provider = registry.get_provider("stripe")
    body = event_body(stripe_event("checkout.session.completed", session_object()))

    event = provider.parse_webhook(body, sign_webhook(body, RUB_KEYS[2]))
    # The USD account signs with its own secret.
    usd_event = provider.parse_webhook(body, sign_webhook(body, USD_KEYS[2]))

    assert event.kind == usd_event.kind == EventKind.CHECKOUT_PAID
    assert (event.order_id, event.session_id, event.provider_payment_id) == (
        77,
        "cs_test_1",
        "pi_1",
    )
    assert (event.amount, event.currency) == (179100, "RUB")
    assert event.payload == json.loads(body)
    tampered = body.replace(b"179100", b"100")
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(tampered, sign_webhook(body, RUB_KEYS[2]))
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(body, sign_webhook(body, "whsec_someone_else"))
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(body, {})
    stale = int(time.time()) - 600
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(body, sign_webhook(body, RUB_KEYS[2], timestamp=stale))
    not_json = b"not json"
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(not_json, sign_webhook(not_json, RUB_KEYS[2]))


REFUND = {"object": "refund", "id": "re_1", "payment_intent": "pi_1", "amount": 500}
INTENT = {
    "object": "payment_intent",
    "id": "pi_1",
    "amount": 1000,
    "amount_received": 1000,
    "currency": "usd",
    "metadata": {"parta_order_id": "78"},
}


@pytest.mark.parametrize(
    ("event_type", "obj", "expected"),
    [
        ("checkout.session.completed", session_object(payment_status="unpaid"), {}),
        (
            "checkout.session.async_payment_succeeded",
            session_object(),
            {"kind": EventKind.CHECKOUT_PAID, "order_id": 77, "provider_payment_id": "pi_1"},
        ),
        (
            "checkout.session.async_payment_failed",
            session_object(payment_status="unpaid"),
            {"kind": EventKind.CHECKOUT_FAILED, "order_id": 77, "session_id": "cs_test_1"},
        ),
        (
            "checkout.session.expired",
            session_object(metadata={}, payment_intent=None, status="expired"),
            {"kind": EventKind.CHECKOUT_EXPIRED, "order_id": 77, "provider_payment_id": ""},
        ),
        (
            "payment_intent.payment_failed",
            {**INTENT, "last_payment_error": {"message": "Your card was declined."}},
            {
                "kind": EventKind.CHECKOUT_FAILED,
                "order_id": 78,
                "session_id": "pi_1",
                "failure_reason": "Your card was declined.",
            },
        ),
        # A Checkout Session's own intent: its session's events speak for it.
        ("payment_intent.payment_failed", {**INTENT, "metadata": {}}, {}),
        (
            "refund.updated",
            {**REFUND, "status": "succeeded"},
            {"kind": EventKind.REFUND_SUCCEEDED, "refund_id": "re_1", "amount": 500},
        ),
        ("refund.updated", {**REFUND, "status": "pending"}, {}),
        (
            "refund.updated",
            {**REFUND, "status": "failed", "failure_reason": "expired_or_canceled_card"},
            {"kind": EventKind.REFUND_FAILED, "failure_reason": "expired_or_canceled_card"},
        ),
        (
            "refund.failed",
            {**REFUND, "status": "pending"},
            {"kind": EventKind.REFUND_FAILED, "refund_id": "re_1"},
        ),
        (
            "charge.refunded",
            {
                "object": "charge",
                "id": "ch_1",
                "payment_intent": "pi_1",
                "refunds": {
                    "data": [
                        {**REFUND, "id": "re_old", "status": "succeeded", "created": 1},
                        {**REFUND, "id": "re_new", "status": "succeeded", "created": 2},
                    ]
                },
            },
            {"kind": EventKind.REFUND_SUCCEEDED, "refund_id": "re_new"},
        ),
        ("customer.created", {"object": "customer", "id": "cus_1"}, {}),
    ],
)
def test_stripe_events_are_read(stripe_keys, event_type, obj, expected):
    body = event_body(stripe_event(event_type, obj))

    event = registry.get_provider("stripe").parse_webhook(body, sign_webhook(body, RUB_KEYS[2]))

    assert event.raw_type == event_type
    wanted = {"kind": EventKind.OTHER, **expected}
    assert {name: getattr(event, name) for name in wanted} == wanted


@pytest.mark.django_db
def test_an_expired_session_ends_the_order_and_gives_the_coupon_back(stripe_settings, stripe_shim):
    price = course_price(199000)
    discount = Discount.objects.create(code="WINTER", kind="percent", percent=10)
    order = order_create(
        user=UserFactory(), item_ids=[price.item_id], currency="RUB", coupon="WINTER"
    )
    session_id = checkout_start(order=order, base_url=BASE_URL).session.session_id
    expired = stripe_client(stripe_shim).v1.checkout.sessions.expire(session_id)
    body = event_body(stripe_event("checkout.session.expired", expired.to_dict()))

    outcome = webhook_receive(
        provider_name="stripe", body=body, headers=sign_webhook(body, "whsec_rub")
    )

    assert outcome.event.status == "processed"
    order.refresh_from_db()
    discount.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert discount.times_redeemed == 0


# --- Whole purchases through a live server -----------------------------------------------


def webhook_url(live_server) -> str:
    return f"{live_server.url}{reverse('billing:webhook', args=['stripe'])}"


def bought_and_paid(live_server, shim: StripeShim) -> tuple[Order, dict]:
    """A course bought through Parta's checkout and paid on Stripe's page; the session."""
    user = UserFactory()
    price = course_price(199000)
    order = order_create(user=user, item_ids=[price.item_id], currency="RUB")
    checkout = checkout_start(order=order, base_url=live_server.url)
    assert checkout.session.url.startswith(shim.url)
    return order, shim.pay(checkout.session.session_id)


@pytest.mark.django_db(transaction=True)
def test_a_paid_checkout_session_fulfils_the_order_once(live_server, stripe_settings, stripe_shim):
    order, session = bought_and_paid(live_server, stripe_shim)
    event = stripe_event("checkout.session.completed", session)

    forged = send_webhook(webhook_url(live_server), event, "whsec_forged")
    first = send_webhook(webhook_url(live_server), event, RUB_KEYS[2])
    again = send_webhook(webhook_url(live_server), event, RUB_KEYS[2])

    assert forged.status_code == 400
    assert (first.status_code, first.json()["status"]) == (200, "processed")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    course = order.lines.get().item.course
    assert AccessGrant.objects.filter(user=order.user, course=course, is_active=True).count() == 1
    payment = Payment.objects.get(order=order)
    assert (payment.provider, payment.provider_payment_id) == ("stripe", session["payment_intent"])
    assert payment.amount == order.total == session["amount_total"]
    assert ProviderEvent.objects.filter(provider="stripe").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_paid_course_is_refunded_to_the_card(live_server, stripe_settings, stripe_shim):
    order, session = bought_and_paid(live_server, stripe_shim)
    send_webhook(
        webhook_url(live_server), stripe_event("checkout.session.completed", session), RUB_KEYS[2]
    )
    grant = AccessGrant.objects.get(user=order.user)

    refund = refund_grant(grant=grant, requested_by=order.user)

    assert refund.status == RefundStatus.SUCCEEDED
    assert 0 < refund.amount < order.total  # the purchase day counts as used
    stored = stripe_client(stripe_shim).v1.refunds.retrieve(refund.provider_refund_id)
    assert (stored.amount, stored.payment_intent) == (refund.amount, session["payment_intent"])
    [call] = stripe_shim.calls_to("POST", "/v1/refunds")
    assert call.idempotency_key == f"parta-refund-{refund.pk}"
    grant.refresh_from_db()
    assert not grant.is_active


@pytest.mark.django_db(transaction=True)
def test_a_payment_intent_is_paid_by_localstripes_own_webhook(
    live_server, stripe_settings, stripe_shim
):
    stripe_settings.STRIPE_FLOW = "payment_intent"
    stripe_shim.relay_webhooks(webhook_url(live_server), RUB_KEYS[2], ["payment_intent.succeeded"])
    user = UserFactory()
    price = course_price(199000)
    order = order_create(user=user, item_ids=[price.item_id], currency="RUB")
    intent_id = checkout_start(order=order, base_url=live_server.url).session.session_id

    stripe_client(stripe_shim).v1.payment_intents.confirm(
        intent_id, {"payment_method": "pm_card_visa"}
    )
    delivery = stripe_shim.wait_for_delivery(intent_id)

    assert delivery.status == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get(order=order).provider_payment_id == intent_id
    assert AccessGrant.objects.filter(user=user, course=price.item.course).count() == 1
