"""Billing pages and lists read a fixed number of queries however much data there is;
stale checkouts are closed by the expiry job."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from parta.billing.models import Discount, Order, OrderStatus
from parta.billing.services.expiry import checkouts_expire
from parta.billing.tests.factories import CourseItemFactory, DiscountFactory, PlanItemFactory
from parta.billing.tests.helpers import buy_json, pay
from parta.common.testing.queries import count_queries

pytestmark = pytest.mark.django_db


def _shop(client, purchases: int) -> None:
    for _ in range(purchases):
        pay(client, buy_json(client, PlanItemFactory().pk)["url"])
        pay(client, buy_json(client, CourseItemFactory().pk)["url"])
    client.post(reverse("billing:balance-topup"), {"amount": "100", "currency": "RUB"})


@pytest.mark.parametrize("page", ["billing:purchases", "billing:balance"])
def test_account_pages_query_count_is_flat(client, buyer, page):
    _shop(client, 1)
    with count_queries() as few:
        assert client.get(reverse(page)).status_code == 200
    assert len(few) <= 20
    _shop(client, 4)
    with count_queries() as more:
        assert client.get(reverse(page)).status_code == 200
    assert len(more) == len(few)


def test_order_and_item_pages_query_count(client, buyer, django_assert_max_num_queries):
    item = PlanItemFactory()
    body = buy_json(client, item.pk)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("billing:item", args=[item.pk])).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("billing:order", args=[body["order_id"]])).status_code == 200


def test_orders_api_list_query_count_is_flat(client, buyer):
    api = APIClient()
    api.force_authenticate(buyer)
    _shop(client, 1)
    with count_queries() as few:
        assert api.get(reverse("api:billing-orders")).status_code == 200
    assert len(few) <= 8
    _shop(client, 4)
    with count_queries() as more:
        assert len(api.get(reverse("api:billing-orders")).json()) == 12
    assert len(more) == len(few)


def test_stale_checkouts_close_and_give_their_coupon_back(client, buyer):
    DiscountFactory(code="ONCE", max_redemptions=1)
    body = buy_json(client, CourseItemFactory().pk, coupon="ONCE")
    assert Discount.objects.get(code="ONCE").times_redeemed == 1
    assert checkouts_expire() == 0  # still open
    Order.objects.update(checkout_expires_at=timezone.now() - timedelta(seconds=1))
    assert checkouts_expire() == 1
    assert checkouts_expire() == 0
    assert Order.objects.get(pk=body["order_id"]).status == OrderStatus.EXPIRED
    assert Discount.objects.get(code="ONCE").times_redeemed == 0
