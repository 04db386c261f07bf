"""Buying through the sandbox: orders, totals, checkout reuse, webhooks, grants, ledger."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from parta.access.models import AccessGrant
from parta.access.selectors import access_check
from parta.accounts.tests.factories import UserFactory
from parta.billing.models import (
    BalanceAccount,
    Discount,
    EventStatus,
    LedgerEntry,
    Order,
    OrderStatus,
    Payment,
    ProviderEvent,
)
from parta.billing.providers import sandbox
from parta.billing.providers.base import EventKind, InvalidWebhook
from parta.billing.services.ledger import ledger_check
from parta.billing.services.orders import order_create
from parta.billing.services.webhooks import webhook_receive
from parta.billing.tests.factories import (
    CourseItemFactory,
    DiscountFactory,
    PlanItemFactory,
    TaxRateFactory,
)
from parta.billing.tests.helpers import buy_json, pay
from parta.common.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.django_db


def test_item_page_shows_price_and_buy_button(client):
    item = CourseItemFactory(prices={"RUB": 199000, "USD": 2500})
    html = client.get(reverse("billing:item", args=[item.pk])).content.decode()
    assert item.title in html
    assert "1\u00a0990\u00a0₽" in html
    assert 'id="buy-form"' in html


def test_plan_item_page_lists_its_courses(client):
    item = PlanItemFactory(prices={"RUB": 10000})
    item.plan.description = "Оба курса на месяц"
    item.plan.save()
    html = client.get(reverse("billing:item", args=[item.pk])).content.decode()
    assert "Оба курса на месяц" in html
    assert item.plan.courses.get().title in html
    assert "3\u00a0000\u00a0₽" in html


def test_buy_requires_sign_in_with_a_json_answer(client):
    item = CourseItemFactory()
    response = client.get(reverse("billing:buy", args=[item.pk]))
    assert response.status_code == 401
    assert response.json()["login_url"]
    assert not Order.objects.exists()


def test_full_sandbox_purchase_grants_the_course(
    client, buyer, django_capture_on_commit_callbacks
):
    item = CourseItemFactory()
    body = buy_json(client, item.pk)
    assert body["status"] == 200
    assert body["session_id"].startswith("sbx_cs_")
    page = client.get(body["url"])
    assert "1\u00a0990\u00a0₽" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        order = pay(client, body["url"])
    assert order.status == OrderStatus.PAID
    grant = AccessGrant.objects.get(user=buyer, course=item.course)
    assert grant.available_until is None
    assert access_check(user=buyer, course_id=item.course_id).allowed
    payment = Payment.objects.get(order=order)
    assert payment.amount == 199000
    # Card money passes through the ledger: +paid in, -spent; the balance stays 0.
    amounts = sorted(LedgerEntry.objects.values_list("kind", "amount"))
    assert amounts == [("spending", -199000), ("topup", 199000)]
    assert BalanceAccount.objects.get(user=buyer).balance == 0
    assert ledger_check() == []


def test_coming_back_reuses_the_open_checkout_until_it_expires(client, buyer, settings):
    item = CourseItemFactory()
    first = buy_json(client, item.pk)
    second = buy_json(client, item.pk)
    assert second["session_id"] == first["session_id"]
    assert second["reused"] is True
    assert Order.objects.count() == 1
    Order.objects.update(checkout_expires_at=timezone.now() - timedelta(seconds=1))
    third = buy_json(client, item.pk)
    assert third["session_id"] != first["session_id"]


def test_decline_leaves_no_access_and_gives_the_coupon_back(client, buyer):
    item = CourseItemFactory()
    coupon = DiscountFactory(code="HALF", percent=50, max_redemptions=1)
    body = buy_json(client, item.pk, coupon="half")
    assert Discount.objects.get(pk=coupon.pk).times_redeemed == 1
    order = pay(client, body["url"], action="decline")
    assert order.status == OrderStatus.FAILED
    assert not AccessGrant.objects.exists()
    assert not Payment.objects.exists()
    assert Discount.objects.get(pk=coupon.pk).times_redeemed == 0


def test_order_totals_with_discount_and_taxes(buyer):
    a = CourseItemFactory(prices={"RUB": 199000})
    b = PlanItemFactory(prices={"RUB": 3300})  # 33.00 a day x 30 = 990.00
    DiscountFactory(code="SPRING", percent=15)
    TaxRateFactory(name="VAT", rate_bp=2000, inclusive=False)
    order = order_create(user=buyer, item_ids=[a.pk, b.pk], currency="RUB", coupon="spring")
    assert (order.subtotal, order.discount_total, order.tax_total) == (298000, 44700, 50660)
    assert order.total == 298000 - 44700 + 50660
    assert [t.amount for t in order.taxes.all()] == [50660]
    assert sum(line.total for line in order.lines.all()) == order.total


def test_order_page_for_owner_and_staff_only(client, buyer):
    order = order_create(user=buyer, item_ids=[CourseItemFactory().pk], currency="RUB")
    assert client.get(reverse("billing:order", args=[order.pk])).status_code == 200
    client.force_login(UserFactory())
    assert client.get(reverse("billing:order", args=[order.pk])).status_code == 404


@pytest.mark.parametrize(
    ("setup", "params", "status", "field"),
    [
        ("unknown", {}, 404, None),
        ("unpublished", {}, 404, None),
        ("no-usd", {"currency": "USD"}, 400, "currency"),
        ("any", {"currency": "XYZ"}, 400, "currency"),
        ("expired-coupon", {"coupon": "OLD"}, 400, "coupon"),
        ("used-coupon", {"coupon": "GONE"}, 400, "coupon"),
        ("usd-coupon", {"coupon": "DOLLARS"}, 400, "coupon"),
        ("any", {"coupon": "NOPE"}, 400, "coupon"),
    ],
)
def test_bad_purchases_get_a_clear_4xx_and_write_nothing(
    client, buyer, setup, params, status, field
):
    item = CourseItemFactory(prices={"RUB": 100000})
    item_id = item.pk
    if setup == "unknown":
        item_id = 999999
    elif setup == "unpublished":
        item.course.is_published = False
        item.course.save()
    DiscountFactory(code="OLD", valid_until=timezone.now() - timedelta(days=1))
    DiscountFactory(code="GONE", max_redemptions=1, times_redeemed=1)
    DiscountFactory(code="DOLLARS", kind="amount", percent=None, amount=500, currency="USD")
    url = reverse("billing:buy", args=[item_id])
    if "coupon" in params:  # coupons come with the item page's POST
        response = client.post(url, params, headers={"Accept": "application/json"})
    else:
        response = client.get(url, params)
    assert response.status_code == status
    body = response.json()
    assert body["detail"]
    if field:
        assert field in body["errors"]
    assert not Order.objects.exists()
    assert Discount.objects.get(code="GONE").times_redeemed == 1


def test_mixed_currencies_cannot_happen_in_one_order(buyer):
    rub = CourseItemFactory(prices={"RUB": 100000})
    usd = CourseItemFactory(prices={"USD": 1500})
    with pytest.raises(ValidationFailed) as exc:
        order_create(user=buyer, item_ids=[rub.pk, usd.pk], currency="RUB")
    assert "currency" in exc.value.errors
    with pytest.raises(NotFound):
        order_create(user=buyer, item_ids=[999999], currency="RUB")
    assert not Order.objects.exists()


# --- Webhooks ------------------------------------------------------------------------------


def _paid_event(order: Order) -> bytes:
    return sandbox.event_body(
        EventKind.CHECKOUT_PAID,
        order_id=order.pk,
        session_id=order.checkout_id,
        amount=order.total,
        currency=order.currency,
        payment_id=f"sbx_pay_{order.pk}",
    )


@pytest.fixture
def open_order(client, buyer):
    item = CourseItemFactory()
    buy_json(client, item.pk)
    return Order.objects.get()


def test_bad_signature_is_400_and_stores_nothing(client, open_order):
    body = _paid_event(open_order)
    url = reverse("billing:webhook", args=["sandbox"])
    response = client.post(
        url, body, content_type="application/json", HTTP_X_PARTA_SIGNATURE="t=1,v1=00"
    )
    assert response.status_code == 400
    tampered = body.replace(b'"amount":199000', b'"amount":1')
    headers = {"HTTP_X_PARTA_SIGNATURE": sandbox.sign(body)["X-Parta-Signature"]}
    assert (
        client.post(url, tampered, content_type="application/json", **headers).status_code == 400
    )
    assert client.post(url, b"not json", content_type="application/json").status_code == 400
    assert not ProviderEvent.objects.exists()
    assert Order.objects.get().status == OrderStatus.PENDING


def test_old_signature_is_refused():
    body = b'{"id":"evt","type":"checkout.paid","data":{}}'
    headers = sandbox.sign(body, timestamp=1_000_000)
    with pytest.raises(InvalidWebhook):
        sandbox.SandboxProvider().parse_webhook(body, headers)


def test_unknown_provider_is_404(client):
    response = client.post(
        reverse("billing:webhook", args=["nope"]), b"{}", content_type="application/json"
    )
    assert response.status_code == 404


def test_replayed_webhook_grants_once(client, open_order):
    body = _paid_event(open_order)
    url = reverse("billing:webhook", args=["sandbox"])
    statuses = []
    for _ in range(5):
        headers = {"HTTP_X_PARTA_SIGNATURE": sandbox.sign(body)["X-Parta-Signature"]}
        statuses.append(
            client.post(url, body, content_type="application/json", **headers).json()["status"]
        )
    assert statuses == ["processed"] + ["duplicate"] * 4
    assert ProviderEvent.objects.count() == 1
    assert AccessGrant.objects.count() == 1
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.count() == 2


def test_out_of_order_events_are_harmless(open_order):
    expired = sandbox.event_body(
        EventKind.CHECKOUT_EXPIRED, order_id=open_order.pk, session_id=open_order.checkout_id,
        amount=open_order.total, currency="RUB",
    )  # fmt: skip
    webhook_receive(provider_name="sandbox", body=expired, headers=sandbox.sign(expired))
    assert Order.objects.get().status == OrderStatus.EXPIRED
    # The payment arrives after the expiry: the money was taken, the buyer gets the course.
    paid = _paid_event(open_order)
    webhook_receive(provider_name="sandbox", body=paid, headers=sandbox.sign(paid))
    assert Order.objects.get().status == OrderStatus.PAID
    # A late failure after the payment changes nothing.
    failed = sandbox.event_body(
        EventKind.CHECKOUT_FAILED, order_id=open_order.pk, session_id=open_order.checkout_id,
        amount=open_order.total, currency="RUB",
    )  # fmt: skip
    webhook_receive(provider_name="sandbox", body=failed, headers=sandbox.sign(failed))
    assert Order.objects.get().status == OrderStatus.PAID
    assert AccessGrant.objects.count() == 1


def test_payment_that_does_not_match_the_order_is_kept_as_failed(open_order):
    body = sandbox.event_body(
        EventKind.CHECKOUT_PAID, order_id=open_order.pk, session_id=open_order.checkout_id,
        amount=1, currency="RUB", payment_id="sbx_pay_odd",
    )  # fmt: skip
    outcome = webhook_receive(provider_name="sandbox", body=body, headers=sandbox.sign(body))
    assert outcome.event.status == EventStatus.FAILED
    assert "does not match" in outcome.event.error
    assert Order.objects.get().status == OrderStatus.PENDING
    assert not AccessGrant.objects.exists()


def test_plan_purchase_grants_every_course_until_the_end(client, buyer):
    item = PlanItemFactory()
    plan = item.plan
    second = plan.courses.first()
    from parta.catalog.tests.factories import CourseFactory

    plan.courses.add(CourseFactory())
    body = buy_json(client, item.pk)
    before = timezone.now()
    pay(client, body["url"])
    grants = list(AccessGrant.objects.filter(user=buyer))
    assert len(grants) == 2
    assert {g.course_id for g in grants} == set(plan.courses.values_list("id", flat=True))
    for grant in grants:
        assert grant.freeze_limit_days == plan.freeze_limit_days
        assert (
            before + timedelta(days=30)
            <= grant.available_until
            <= timezone.now() + timedelta(days=30)
        )
    assert second is not None


def test_expiry_switches_off_ended_grants_and_tells_the_student(
    buyer, django_capture_on_commit_callbacks
):
    from parta.access.tests.factories import AccessGrantFactory
    from parta.billing.services.expiry import grants_expire

    ended = AccessGrantFactory(
        user=buyer,
        starts_at=timezone.now() - timedelta(days=31),
        available_until=timezone.now() - timedelta(minutes=1),
    )
    running = AccessGrantFactory(user=buyer, available_until=timezone.now() + timedelta(days=1))
    # Refused before the job runs: the check reads the end date, not the flag.
    assert not access_check(user=buyer, course_id=ended.course_id).allowed
    with django_capture_on_commit_callbacks(execute=True):
        assert grants_expire() == 1
    assert grants_expire() == 0
    ended.refresh_from_db()
    running.refresh_from_db()
    assert not ended.is_active
    assert running.is_active
    assert len(mail.outbox) == 1
    assert ended.course.title in mail.outbox[0].subject


def test_expiry_of_an_older_checkout_does_not_end_the_order(client, buyer):
    from parta.billing.services.orders import checkout_start

    item = CourseItemFactory()
    first = buy_json(client, item.pk)
    Order.objects.update(checkout_expires_at=timezone.now() - timedelta(seconds=1))
    order = Order.objects.get()
    second = checkout_start(order=order)  # the buyer comes back to the same order
    assert second.session.session_id != first["session_id"]
    old = sandbox.event_body(
        EventKind.CHECKOUT_EXPIRED, order_id=order.pk, session_id=first["session_id"],
        amount=order.total, currency="RUB",
    )  # fmt: skip
    outcome = webhook_receive(provider_name="sandbox", body=old, headers=sandbox.sign(old))
    assert outcome.event.status == EventStatus.IGNORED
    assert Order.objects.get().status == OrderStatus.PENDING
    assert pay(client, second.session.url).status == OrderStatus.PAID


def test_sandbox_switched_off_cannot_be_used(client, buyer, settings):
    item = CourseItemFactory()
    body = buy_json(client, item.pk)
    settings.PARTA_PAYMENT_PROVIDERS = ["stripe"]
    assert client.get(body["url"]).status_code == 404
    assert client.post(body["url"], {"action": "pay"}).status_code == 404
    assert Order.objects.get().status == OrderStatus.PENDING


def test_deploy_check_warns_about_the_sandbox(settings):
    from parta.billing.checks import sandbox_in_production

    settings.DEBUG = False
    settings.PARTA_PAYMENT_PROVIDERS = ["sandbox"]
    assert [w.id for w in sandbox_in_production(None)] == ["parta.W001"]
    settings.PARTA_PAYMENT_PROVIDERS = ["stripe"]
    assert sandbox_in_production(None) == []


def test_free_order_needs_no_checkout(client, buyer):
    item = CourseItemFactory(prices={"RUB": 50000})
    DiscountFactory(code="FREE", percent=100)
    body = buy_json(client, item.pk, coupon="free")
    assert body["status"] == 200
    assert body["url"] == reverse("billing:order", args=[body["order_id"]])
    order = Order.objects.get()
    assert (order.total, order.status) == (0, OrderStatus.PAID)
    assert AccessGrant.objects.filter(user=buyer, course=item.course).exists()
    assert not Payment.objects.exists()


def test_payment_intent_orders_show_the_card_form_on_the_order_page(client, buyer, settings):
    settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "stripe"]
    settings.STRIPE_KEYS_RUB = ["pk_test_parta", "sk_test_parta", "whsec_parta"]
    order = order_create(
        user=buyer, item_ids=[CourseItemFactory().pk], currency="RUB", provider="stripe"
    )
    Order.objects.filter(pk=order.pk).update(
        checkout_id="pi_123", checkout_client_secret="pi_123_secret_abc",
        checkout_expires_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    html = client.get(reverse("billing:order", args=[order.pk])).content.decode()
    assert 'data-publishable-key="pk_test_parta"' in html
    assert 'data-client-secret="pi_123_secret_abc"' in html
    assert "sk_test_parta" not in html
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    html = client.get(reverse("billing:order", args=[order.pk])).content.decode()
    assert "pi_123_secret_abc" not in html
