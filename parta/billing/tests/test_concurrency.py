"""Money under concurrency, on PostgreSQL: row locks and unique constraints decide."""

import pytest
from django.test import Client

from parta.access.models import AccessGrant
from parta.accounts.tests.factories import UserFactory
from parta.billing.models import (
    BalanceAccount,
    Discount,
    EntryKind,
    LedgerEntry,
    Order,
    Payment,
    ProviderEvent,
    Refund,
)
from parta.billing.providers import sandbox
from parta.billing.providers.base import EventKind
from parta.billing.services.ledger import InsufficientFunds, ledger_check, ledger_post
from parta.billing.services.orders import checkout_start, order_create
from parta.billing.services.refunds import AlreadyRefunded, refund_grant
from parta.billing.services.webhooks import webhook_receive
from parta.billing.tests.factories import CourseItemFactory, DiscountFactory, PlanItemFactory
from parta.billing.tests.helpers import buy_json, pay
from parta.common.errors import ValidationFailed
from parta.common.testing.concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_50_parallel_refunds_of_one_grant_make_one_refund():
    buyer = UserFactory()
    client = Client()
    client.force_login(buyer)
    item = PlanItemFactory()
    pay(client, buy_json(client, item.pk)["url"])
    grant = AccessGrant.objects.get(user=buyer)

    results, errors = run_together(50, lambda _i: refund_grant(grant=grant, requested_by=buyer))
    assert len(results) == 1
    assert len(errors) == 49
    assert all(isinstance(e, AlreadyRefunded) for e in errors), errors[:3]
    assert Refund.objects.count() == 1
    assert Payment.objects.get().refunded_amount == results[0].amount


def test_50_parallel_spends_with_money_for_10_spend_exactly_10():
    user = UserFactory()
    ledger_post(
        user_id=user.id, currency="RUB", kind=EntryKind.TOPUP, amount=1000, reference="seed"
    )

    def spend(i):
        return ledger_post(
            user_id=user.id,
            currency="RUB",
            kind=EntryKind.SPENDING,
            amount=-100,
            reference=f"spend:{i}",
        )

    results, errors = run_together(50, spend)
    assert len(results) == 10
    assert len(errors) == 40
    assert all(isinstance(e, InsufficientFunds) for e in errors)
    assert BalanceAccount.objects.get(user=user).balance == 0
    assert ledger_check() == []


def test_coupon_with_5_uses_taken_by_20_buyers_at_once_is_used_5_times():
    item = CourseItemFactory()
    DiscountFactory(code="FIVE", max_redemptions=5)
    buyers = [UserFactory() for _ in range(20)]

    def buy(i):
        return order_create(user=buyers[i - 3], item_ids=[item.pk], currency="RUB", coupon="FIVE")

    results, errors = run_together(20, buy)
    assert len(results) == 5
    assert all(isinstance(e, ValidationFailed) and "coupon" in e.errors for e in errors)
    assert Discount.objects.get(code="FIVE").times_redeemed == 5
    assert Order.objects.count() == 5


def test_the_same_webhook_100_times_at_once_grants_once():
    buyer = UserFactory()
    item = CourseItemFactory()
    order = order_create(user=buyer, item_ids=[item.pk], currency="RUB")
    checkout_start(order=order)
    order.refresh_from_db()
    body = sandbox.event_body(
        EventKind.CHECKOUT_PAID,
        order_id=order.pk,
        session_id=order.checkout_id,
        amount=order.total,
        currency="RUB",
        payment_id="sbx_pay_once",
    )

    def deliver(_i):
        return webhook_receive(provider_name="sandbox", body=body, headers=sandbox.sign(body))

    results, errors = run_together(20, deliver)  # 20 at once...
    assert not errors, errors[:3]
    for _ in range(80):  # ...and 80 more replays
        results.append(deliver(0))
    assert sum(1 for r in results if not r.duplicate) == 1
    assert ProviderEvent.objects.count() == 1
    assert AccessGrant.objects.count() == 1
    assert Payment.objects.count() == 1
    refs = list(LedgerEntry.objects.values_list("reference", flat=True))
    assert sorted(refs) == [f"order:{order.pk}:paid-in", f"order:{order.pk}:spend"]


def test_one_buyer_placing_20_orders_at_once_uses_a_coupon_at_most_its_per_buyer_limit():
    item = CourseItemFactory()
    DiscountFactory(code="TWICE", max_redemptions=100, max_per_user=2)
    buyer = UserFactory()

    def buy(_i):
        return order_create(user=buyer, item_ids=[item.pk], currency="RUB", coupon="TWICE")

    results, errors = run_together(20, buy)
    assert len(results) == 2
    assert len(errors) == 18
    assert all(isinstance(e, ValidationFailed) and "coupon" in e.errors for e in errors)
    assert Discount.objects.get(code="TWICE").times_redeemed == 2
    assert Order.objects.filter(discount__code="TWICE").count() == 2


def test_expiry_running_while_buyers_redeem_keeps_the_count_true(settings):
    """Orders expire (giving uses back) while others take them: the coupon's count is
    always the number of live orders holding it, and never above the limit."""
    from datetime import timedelta

    from django.utils import timezone

    from parta.billing.models import OrderStatus
    from parta.billing.services.expiry import orders_expire

    settings.PARTA_UNPAID_ORDER_MINUTES = 30
    item = CourseItemFactory()
    DiscountFactory(code="FIVE", max_redemptions=5)
    for _ in range(5):
        order_create(user=UserFactory(), item_ids=[item.pk], currency="RUB", coupon="FIVE")
    Order.objects.update(created_at=timezone.now() - timedelta(hours=1))
    buyers = [UserFactory() for _ in range(15)]

    def work(i):
        if i < 3:
            return orders_expire()
        return order_create(user=buyers[i - 3], item_ids=[item.pk], currency="RUB", coupon="FIVE")

    _results, errors = run_together(18, work)
    assert all(isinstance(e, ValidationFailed) for e in errors), errors
    live = Order.objects.filter(
        discount__code="FIVE", status__in=[OrderStatus.PENDING, OrderStatus.PAID]
    ).count()
    assert Discount.objects.get(code="FIVE").times_redeemed == live <= 5
    assert Order.objects.filter(status=OrderStatus.EXPIRED).count() == 5
