"""Coupons cannot be used up for good: every unpaid order expires (with or without a
checkout) and gives its use back, one buyer may use a coupon a limited number of times
(once by default), and `GET /buy/` never takes a coupon."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from parta.accounts.tests.factories import UserFactory
from parta.billing.models import Discount, Order, OrderStatus
from parta.billing.services.expiry import orders_expire
from parta.billing.services.fulfilment import order_ended_unpaid
from parta.billing.services.orders import checkout_start, order_create
from parta.billing.tasks import expire_checkouts
from parta.billing.tests.factories import CourseItemFactory, DiscountFactory
from parta.billing.tests.helpers import buy_json, pay
from parta.common.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _age(minutes: int) -> None:
    Order.objects.update(created_at=timezone.now() - timedelta(minutes=minutes))


def test_three_orders_with_a_three_use_coupon_by_one_buyer_take_one_use():
    item = CourseItemFactory()
    DiscountFactory(code="THREE", max_redemptions=3)
    api = _api(UserFactory())
    url = reverse("api:billing-orders")

    answers = [
        api.post(url, {"items": [item.pk], "currency": "RUB", "coupon": "three"}, format="json")
        for _ in range(3)
    ]

    assert [a.status_code for a in answers] == [201, 400, 400]
    assert "coupon" in answers[1].json()["errors"]
    assert Discount.objects.get(code="THREE").times_redeemed == 1
    # Another buyer still has uses left.
    other = _api(UserFactory()).post(
        url, {"items": [item.pk], "currency": "RUB", "coupon": "THREE"}, format="json"
    )
    assert other.status_code == 201


def test_unpaid_orders_without_a_checkout_expire_and_give_their_coupon_back(settings):
    settings.PARTA_UNPAID_ORDER_MINUTES = 30
    item = CourseItemFactory()
    DiscountFactory(code="THREE", max_redemptions=3, max_per_user=None)
    buyer = UserFactory()
    for _ in range(3):
        order_create(user=buyer, item_ids=[item.pk], currency="RUB", coupon="THREE")
    assert Discount.objects.get(code="THREE").times_redeemed == 3
    with pytest.raises(ValidationFailed, match="used up"):
        order_create(user=UserFactory(), item_ids=[item.pk], currency="RUB", coupon="THREE")

    _age(29)
    assert orders_expire() == 0  # not old enough yet
    _age(31)
    assert expire_checkouts() == 3  # the periodic task
    assert orders_expire() == 0  # safe to run again

    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.EXPIRED}
    assert Discount.objects.get(code="THREE").times_redeemed == 0
    order_create(user=UserFactory(), item_ids=[item.pk], currency="RUB", coupon="THREE")


def test_an_old_order_with_an_open_checkout_waits_for_the_checkout(settings):
    settings.PARTA_UNPAID_ORDER_MINUTES = 30
    buyer = UserFactory()
    DiscountFactory(code="ONCE", max_redemptions=1)
    order = order_create(
        user=buyer, item_ids=[CourseItemFactory().pk], currency="RUB", coupon="ONCE"
    )
    _age(60)
    checkout_start(order=order)  # the buyer comes back and goes to pay

    assert orders_expire() == 0
    Order.objects.update(checkout_expires_at=timezone.now() - timedelta(seconds=1))
    assert orders_expire() == 1
    assert Order.objects.get().failure_reason == "checkout expired"
    assert Discount.objects.get(code="ONCE").times_redeemed == 0


def test_a_coupon_comes_back_to_its_buyer_when_the_order_ends_unpaid():
    buyer = UserFactory()
    item = CourseItemFactory()
    DiscountFactory(code="ONCE")
    first = order_create(user=buyer, item_ids=[item.pk], currency="RUB", coupon="ONCE")
    order_ended_unpaid(order=first, status=OrderStatus.FAILED)

    again = order_create(user=buyer, item_ids=[item.pk], currency="RUB", coupon="ONCE")

    assert again.discount.code == "ONCE"
    assert Discount.objects.get(code="ONCE").times_redeemed == 1


def test_a_paid_order_counts_against_the_buyers_limit(client):
    buyer = UserFactory()
    client.force_login(buyer)
    DiscountFactory(code="TWICE", max_per_user=2)
    pay(client, buy_json(client, CourseItemFactory().pk, coupon="TWICE")["url"])
    assert buy_json(client, CourseItemFactory().pk, coupon="TWICE")["status"] == 200

    third = buy_json(client, CourseItemFactory().pk, coupon="TWICE")

    assert third["status"] == 400
    assert "coupon" in third["errors"]


def test_paid_after_expiry_takes_the_use_again_only_if_one_is_left(client):
    buyer = UserFactory()
    client.force_login(buyer)
    DiscountFactory(code="ONCE", max_redemptions=1)
    body = buy_json(client, CourseItemFactory().pk, coupon="ONCE")
    Order.objects.update(checkout_expires_at=timezone.now() - timedelta(seconds=1))
    orders_expire()
    order_create(user=UserFactory(), item_ids=[CourseItemFactory().pk], currency="RUB",
                 coupon="ONCE")  # fmt: skip

    # The late payment of the first order still goes through (the money was taken).
    order = Order.objects.get(pk=body["order_id"])
    from parta.billing.services.fulfilment import order_paid

    order_paid(
        order=order, provider="sandbox", provider_payment_id="late", amount=order.total,
        currency="RUB",
    )  # fmt: skip
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert Discount.objects.get(code="ONCE").times_redeemed == 1


# --- /buy/ ---------------------------------------------------------------------------------


def test_get_buy_with_a_coupon_takes_no_use_and_says_how(client):
    buyer = UserFactory()
    client.force_login(buyer)
    item = CourseItemFactory()
    DiscountFactory(code="ONCE", max_redemptions=1)

    response = client.get(reverse("billing:buy", args=[item.pk]), {"coupon": "ONCE"})

    assert response.status_code == 400
    assert response.json()["code"] == "coupon_needs_post"
    assert Discount.objects.get(code="ONCE").times_redeemed == 0
    assert not Order.objects.exists()


def test_get_buy_reuses_the_open_order_for_the_item(client):
    buyer = UserFactory()
    client.force_login(buyer)
    item = CourseItemFactory()
    DiscountFactory(code="ONCE")
    with_coupon = buy_json(client, item.pk, coupon="ONCE")  # the item page's POST

    again = buy_json(client, item.pk)
    Order.objects.update(checkout_expires_at=timezone.now() - timedelta(seconds=1))
    after_checkout_closed = buy_json(client, item.pk)

    assert again["order_id"] == with_coupon["order_id"]
    assert again["session_id"] == with_coupon["session_id"]
    assert after_checkout_closed["order_id"] == with_coupon["order_id"]
    assert after_checkout_closed["session_id"] != with_coupon["session_id"]
    assert Order.objects.count() == 1
    assert Discount.objects.get(code="ONCE").times_redeemed == 1


def test_get_buy_twice_makes_one_order(client):
    buyer = UserFactory()
    client.force_login(buyer)
    item = CourseItemFactory()
    first = buy_json(client, item.pk)
    second = buy_json(client, item.pk)
    assert first["order_id"] == second["order_id"]
    assert second["reused"] is True
    assert Order.objects.count() == 1


def test_buy_form_post_goes_to_the_checkout_or_back_with_the_error(client):
    buyer = UserFactory()
    client.force_login(buyer)
    client.cookies["django_language"] = "en"
    item = CourseItemFactory()
    DiscountFactory(code="HALF", percent=50)

    paid = client.post(reverse("billing:buy", args=[item.pk]), {"coupon": "half"})
    wrong = client.post(
        reverse("billing:buy", args=[CourseItemFactory().pk]), {"coupon": "NOPE"}, follow=True
    )

    order = Order.objects.get()
    assert paid.status_code == 302
    assert paid["Location"] == order.checkout_url
    assert order.discount.code == "HALF"
    assert wrong.redirect_chain[-1][0].startswith("/item/")
    assert "There is no such coupon." in wrong.content.decode()


def test_buy_post_needs_a_csrf_token():
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(UserFactory())
    DiscountFactory(code="ONCE")
    item = CourseItemFactory()
    response = csrf_client.post(reverse("billing:buy", args=[item.pk]), {"coupon": "ONCE"})
    assert response.status_code == 403
    assert not Order.objects.exists()
