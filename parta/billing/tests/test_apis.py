import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from parta.access.models import AccessGrant
from parta.accounts.tests.factories import UserFactory
from parta.billing.models import Order, Refund
from parta.billing.tests.factories import CourseItemFactory, DiscountFactory, TaxRateFactory
from parta.billing.tests.helpers import pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def api(buyer):
    client = APIClient()
    client.force_authenticate(buyer)
    return client


def test_order_with_coupon_and_tax_then_checkout(api, buyer):
    item = CourseItemFactory(prices={"RUB": 100000})
    DiscountFactory(code="TEN", percent=10)
    TaxRateFactory(rate_bp=2000, inclusive=True, name="НДС")
    response = api.post(
        reverse("api:billing-orders"),
        {"items": [item.pk], "currency": "rub", "coupon": "ten"},
        format="json",
    )
    assert response.status_code == 201
    order = response.json()
    assert (order["subtotal"], order["discount_total"], order["total"]) == (100000, 10000, 90000)
    assert order["taxes"] == [{"name": "НДС", "rate_bp": 2000, "inclusive": True, "amount": 15000}]
    assert order["coupon"] == "TEN"
    checkout = api.post(reverse("api:billing-order-checkout", args=[order["id"]])).json()
    assert checkout["url"].startswith("/sandbox/checkout/")
    again = api.post(reverse("api:billing-order-checkout", args=[order["id"]])).json()
    assert again["session_id"] == checkout["session_id"]
    assert api.get(reverse("api:billing-order", args=[order["id"]])).json()["status"] == "pending"
    # GET on the action endpoints is not a way to act.
    assert api.get(reverse("api:billing-order-checkout", args=[order["id"]])).status_code == 405


def test_topup_then_pay_from_balance_and_refund(api, buyer):
    from django.test import Client

    web = Client()
    web.force_login(buyer)
    topup = api.post(
        reverse("api:billing-topup"), {"amount": 300000, "currency": "RUB"}, format="json"
    )
    assert topup.status_code == 201
    pay(web, topup.json()["url"])
    item = CourseItemFactory(prices={"RUB": 140000})
    order = api.post(
        reverse("api:billing-orders"),
        {"items": [item.pk], "currency": "RUB", "pay_from_balance": True},
        format="json",
    ).json()
    assert order["status"] == "paid"
    balance = api.get(reverse("api:billing-balance")).json()
    assert balance["balances"] == [
        {"currency": "RUB", "balance": 160000, "held": 0, "available": 160000}
    ]
    assert [e["amount"] for e in balance["history"]] == [-140000, 300000]
    grant = AccessGrant.objects.get(user=buyer)
    refund = api.post(reverse("api:billing-refunds"), {"grant": grant.pk}, format="json")
    assert refund.status_code == 201
    assert refund.json()["destination"] == "balance"
    second = api.post(reverse("api:billing-refunds"), {"grant": grant.pk}, format="json")
    assert second.status_code == 409
    assert second.json()["code"] == "already_refunded"
    assert Refund.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"amount": 0, "currency": "RUB"}, 400),
        ({"amount": -100, "currency": "RUB"}, 400),
        ({"amount": "lots", "currency": "RUB"}, 400),
        ({"amount": 100, "currency": "XXX"}, 400),
    ],
)
def test_bad_topups(api, payload, status):
    response = api.post(reverse("api:billing-topup"), payload, format="json")
    assert response.status_code == status
    assert response.json()["detail"]
    assert not Order.objects.exists()


def test_pay_from_balance_without_money_is_409_and_writes_nothing(api):
    item = CourseItemFactory()
    response = api.post(
        reverse("api:billing-orders"),
        {"items": [item.pk], "currency": "RUB", "pay_from_balance": True},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_funds"
    assert not Order.objects.exists()
    assert not AccessGrant.objects.exists()


def test_other_peoples_orders_and_grants_are_not_found(api):
    stranger = UserFactory()
    item = CourseItemFactory()
    from parta.billing.services.orders import order_create

    order = order_create(user=stranger, item_ids=[item.pk], currency="RUB")
    assert api.get(reverse("api:billing-order", args=[order.pk])).status_code == 404
    from parta.access.tests.factories import AccessGrantFactory

    grant = AccessGrantFactory(user=stranger)
    response = api.post(reverse("api:billing-refunds"), {"grant": grant.pk}, format="json")
    assert response.status_code == 404


def test_buy_api_mixed_currency_or_unknown(api):
    item = CourseItemFactory(prices={"RUB": 1000})
    assert (
        api.post(
            reverse("api:billing-buy"), {"item": item.pk, "currency": "USD"}, format="json"
        ).status_code
        == 400
    )
    assert api.post(reverse("api:billing-buy"), {"item": 999999}, format="json").status_code == 404
    assert (
        api.post(
            reverse("api:billing-orders"), {"items": [], "currency": "RUB"}, format="json"
        ).status_code
        == 400
    )


def test_anonymous_gets_401(db):
    assert APIClient().get(reverse("api:billing-balance")).status_code == 401


@pytest.mark.parametrize(
    "model",
    [
        "order",
        "payment",
        "providerevent",
        "balanceaccount",
        "ledgerentry",
        "refund",
        "item",
        "plan",
        "discount",
        "taxrate",
    ],
)
def test_admin_pages_open_for_staff(client, model):
    from parta.accounts.tests.factories import StaffFactory

    client.force_login(StaffFactory())
    assert client.get(reverse(f"admin:billing_{model}_changelist")).status_code == 200


def test_freeze_api_for_the_owner_and_for_staff(api, buyer):
    from django.test import Client

    from parta.accounts.tests.factories import StaffFactory
    from parta.billing.tests.factories import PlanItemFactory
    from parta.billing.tests.helpers import buy_json

    web = Client()
    web.force_login(buyer)
    item = PlanItemFactory()
    pay(web, buy_json(web, item.pk)["url"])
    grant = AccessGrant.objects.get(user=buyer)
    frozen = api.post(
        reverse("api:billing-freezes"), {"grant": grant.pk, "days": 2}, format="json"
    )
    assert frozen.status_code == 201
    assert frozen.json()[0]["days"] == 2
    again = api.post(reverse("api:billing-freezes"), {"grant": grant.pk, "days": 1}, format="json")
    assert again.status_code == 400
    assert "заморожен" in again.json()["detail"]  # the API speaks the school language
    ended = api.post(reverse("api:billing-freeze-end", args=[frozen.json()[0]["id"]]))
    assert ended.status_code == 200
    assert ended.json()[0]["ended_at"]
    staff = APIClient()
    staff.force_authenticate(StaffFactory())
    over = staff.post(
        reverse("api:billing-freezes"), {"grant": grant.pk, "days": 30}, format="json"
    )
    assert over.status_code == 400
    assert (
        staff.post(
            reverse("api:billing-freezes"), {"grant": grant.pk, "days": 3}, format="json"
        ).status_code
        == 201
    )
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert (
        stranger.post(
            reverse("api:billing-freezes"), {"grant": grant.pk, "days": 1}, format="json"
        ).status_code
        == 404
    )


def test_staff_adjust_a_balance_once_per_key_and_never_below_zero(buyer):
    import uuid

    from parta.accounts.tests.factories import ModeratorFactory, StaffFactory
    from parta.billing.models import BalanceAccount, LedgerEntry

    staff = APIClient()
    staff.force_authenticate(StaffFactory())
    key = str(uuid.uuid4())
    payload = {
        "user": buyer.pk,
        "currency": "RUB",
        "amount": 5000,
        "reason": "goodwill",
        "key": key,
    }
    assert (
        staff.post(reverse("api:billing-adjustments"), payload, format="json").status_code == 201
    )
    assert (
        staff.post(reverse("api:billing-adjustments"), payload, format="json").status_code == 200
    )
    assert BalanceAccount.objects.get(user=buyer).balance == 5000
    entry = LedgerEntry.objects.get()
    assert entry.kind == "adjustment"
    assert "goodwill" in entry.description
    too_much = {**payload, "amount": -6000, "key": str(uuid.uuid4())}
    assert (
        staff.post(reverse("api:billing-adjustments"), too_much, format="json").status_code == 409
    )
    no_reason = {**payload, "reason": " ", "key": str(uuid.uuid4())}
    assert (
        staff.post(reverse("api:billing-adjustments"), no_reason, format="json").status_code == 400
    )
    moderator = APIClient()
    moderator.force_authenticate(ModeratorFactory())
    assert (
        moderator.post(
            reverse("api:billing-adjustments"),
            {**payload, "key": str(uuid.uuid4())},
            format="json",
        ).status_code
        == 403
    )
    assert LedgerEntry.objects.count() == 1
