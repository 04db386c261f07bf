"""The balance ledger, paying from it, refunds of purchases and of top-ups."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from parta.access.models import AccessGrant
from parta.access.selectors import access_check
from parta.accounts.tests.factories import StaffFactory, UserFactory
from parta.billing.models import (
    BalanceAccount,
    EntryKind,
    Hold,
    HoldStatus,
    LedgerEntry,
    Order,
    OrderStatus,
    Payment,
    Refund,
    RefundStatus,
)
from parta.billing.services.fulfilment import order_paid_from_balance
from parta.billing.services.ledger import InsufficientFunds, ledger_check, ledger_post
from parta.billing.services.orders import order_create, topup_create
from parta.billing.services.refunds import (
    AlreadyRefunded,
    refund_grant,
    refund_quote,
    refund_topup,
)
from parta.billing.tests.factories import CourseItemFactory, PlanItemFactory
from parta.billing.tests.helpers import buy_json, pay
from parta.common.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def _topup(client, amount="1000", currency="RUB") -> Order:
    response = client.post(
        reverse("billing:balance-topup"), {"amount": amount, "currency": currency}
    )
    assert response.status_code == 302
    return pay(client, response["Location"])


def test_topup_through_the_provider_fills_the_balance(client, buyer):
    order = _topup(client, "1 500,50")
    assert order.status == OrderStatus.PAID
    account = BalanceAccount.objects.get(user=buyer, currency="RUB")
    assert account.balance == 150050
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.balance_after) == ("topup", 150050, 150050)
    page = client.get(reverse("billing:balance")).content.decode()
    assert "1\u00a0500,50\u00a0₽" in page


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "", "1.234"])
def test_topup_of_nothing_or_nonsense_is_refused(client, buyer, amount):
    response = client.post(
        reverse("billing:balance-topup"), {"amount": amount, "currency": "RUB"}, follow=True
    )
    assert response.status_code == 200
    assert not Order.objects.exists()
    assert list(response.context["messages"])


def test_topup_service_refuses_zero_and_negative(buyer):
    for amount in (0, -100):
        with pytest.raises(ValidationFailed):
            topup_create(user=buyer, amount=amount, currency="RUB")


def test_pay_from_balance_spends_and_grants_together(client, buyer):
    _topup(client, "2000")
    item = CourseItemFactory(prices={"RUB": 150000})
    order = order_create(user=buyer, item_ids=[item.pk], currency="RUB")
    order_paid_from_balance(order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert BalanceAccount.objects.get(user=buyer).balance == 50000
    assert AccessGrant.objects.filter(user=buyer, course=item.course).count() == 1
    spending = LedgerEntry.objects.get(kind=EntryKind.SPENDING)
    assert spending.amount == -150000  # spending is negative
    # Again: nothing is charged twice.
    order_paid_from_balance(order=order)
    assert BalanceAccount.objects.get(user=buyer).balance == 50000


def test_not_enough_balance_charges_nothing_and_grants_nothing(client, buyer):
    _topup(client, "100")
    item = CourseItemFactory(prices={"RUB": 150000})
    order = order_create(user=buyer, item_ids=[item.pk], currency="RUB")
    with pytest.raises(InsufficientFunds):
        order_paid_from_balance(order=order)
    assert BalanceAccount.objects.get(user=buyer).balance == 10000
    assert not AccessGrant.objects.exists()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_plan_refund_is_prorated_and_ends_access(
    client, buyer, django_capture_on_commit_callbacks
):
    item = PlanItemFactory(prices={"RUB": 10000})  # 100.00 a day, 30 days: 3000.00
    body = buy_json(client, item.pk)
    pay(client, body["url"])
    grant = AccessGrant.objects.get(user=buyer)
    quote = refund_quote(grant=grant)
    assert quote.days_used == 1  # the purchase day counts as used
    assert quote.amount == 290000
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_grant(grant=grant, requested_by=buyer)
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.amount == 290000
    assert Payment.objects.get().refunded_amount == 290000
    grant.refresh_from_db()
    assert not grant.is_active
    assert not access_check(user=buyer, course_id=grant.course_id).allowed
    with pytest.raises(AlreadyRefunded):
        refund_grant(grant=grant, requested_by=buyer)
    assert Refund.objects.count() == 1


def test_refund_after_ten_days(client, buyer, monkeypatch):
    item = PlanItemFactory(prices={"RUB": 10000})
    pay(client, buy_json(client, item.pk)["url"])
    grant = AccessGrant.objects.get(user=buyer)
    later = timezone.now() + timedelta(days=9, hours=1)  # the tenth day
    assert refund_quote(grant=grant, now=later).amount == 200000


def test_refund_to_the_balance(client, buyer):
    item = CourseItemFactory(prices={"RUB": 140000})
    pay(client, buy_json(client, item.pk)["url"])
    grant = AccessGrant.objects.get(user=buyer)
    refund = refund_grant(grant=grant, requested_by=buyer, to_balance=True)
    assert refund.destination == "balance"
    # Course purchases prorate over PARTA_COURSE_REFUND_DAYS (14): day 1 used.
    assert refund.amount == 140000 - 10000
    assert BalanceAccount.objects.get(user=buyer).balance == 130000
    assert ledger_check() == []


def test_refund_of_someone_elses_grant_is_refused(client, buyer):
    item = CourseItemFactory()
    pay(client, buy_json(client, item.pk)["url"])
    grant = AccessGrant.objects.get(user=buyer)
    with pytest.raises(PermissionDenied):
        refund_grant(grant=grant, requested_by=UserFactory())
    assert not Refund.objects.exists()
    # Staff may refund anyone's.
    assert refund_grant(grant=grant, requested_by=StaffFactory()).status == "succeeded"


def test_manual_grant_has_nothing_to_refund(buyer):
    from parta.access.tests.factories import AccessGrantFactory

    with pytest.raises(ValidationFailed, match="Nothing was paid"):
        refund_grant(grant=AccessGrantFactory(user=buyer), requested_by=buyer)


def test_refund_get_only_shows_the_confirmation(client, buyer):
    item = CourseItemFactory()
    pay(client, buy_json(client, item.pk)["url"])
    grant = AccessGrant.objects.get(user=buyer)
    response = client.get(reverse("billing:purchase-refund", args=[grant.pk]))
    assert response.status_code == 200
    assert response.templates[0].name == "billing/refund_confirm.html"
    assert not Refund.objects.exists()


def test_purchases_page_refund_twice_says_so(client, buyer):
    item = CourseItemFactory()
    pay(client, buy_json(client, item.pk)["url"])
    grant = AccessGrant.objects.get(user=buyer)
    url = reverse("billing:purchase-refund", args=[grant.pk])
    client.post(url)
    second = client.post(url, follow=True)
    assert "уже" in second.content.decode() or "already" in second.content.decode()
    assert Refund.objects.count() == 1


def test_topup_refund_back_to_its_payment(client, buyer):
    _topup(client, "1000")
    entry = LedgerEntry.objects.get(kind=EntryKind.TOPUP)
    refund = refund_topup(entry=entry, amount=40000, requested_by=buyer)
    assert refund.status == RefundStatus.SUCCEEDED
    account = BalanceAccount.objects.get(user=buyer)
    assert (account.balance, account.held) == (60000, 0)
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).get().amount == -40000
    assert Hold.objects.get().status == HoldStatus.CAPTURED
    with pytest.raises(ValidationFailed):
        refund_topup(entry=entry, amount=60001, requested_by=buyer)
    assert ledger_check() == []


def test_topup_refund_needs_the_balance_to_cover_it(client, buyer):
    _topup(client, "1000")
    item = CourseItemFactory(prices={"RUB": 80000})
    order_paid_from_balance(order=order_create(user=buyer, item_ids=[item.pk], currency="RUB"))
    entry = LedgerEntry.objects.get(kind=EntryKind.TOPUP)
    with pytest.raises(InsufficientFunds):
        refund_topup(entry=entry, amount=50000, requested_by=buyer)
    assert refund_topup(entry=entry, amount=20000, requested_by=buyer).status == "succeeded"
    assert BalanceAccount.objects.get(user=buyer).balance == 0


def test_failed_provider_refund_releases_the_hold(client, buyer, settings):
    _topup(client, "1000")
    settings.PARTA_SANDBOX_FAIL_REFUNDS = True
    entry = LedgerEntry.objects.get(kind=EntryKind.TOPUP)
    refund = refund_topup(entry=entry, amount=30000, requested_by=buyer)
    assert refund.status == RefundStatus.FAILED
    account = BalanceAccount.objects.get(user=buyer)
    assert (account.balance, account.held) == (100000, 0)
    assert Hold.objects.get().status == HoldStatus.RELEASED
    assert ledger_check() == []


def test_check_ledger_command(client, buyer, capsys):
    _topup(client, "10")
    call_command("check_ledger")
    assert "consistent" in capsys.readouterr().out
    BalanceAccount.objects.update(balance=1)  # break it behind the ledger's back
    with pytest.raises(SystemExit):
        call_command("check_ledger")


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["in", "out", "adjust"]), st.integers(1, 5000)), max_size=25
    )
)
def test_balance_equals_the_sum_of_entries_and_never_goes_negative(db, ops):
    user = UserFactory()
    expected = 0
    for i, (op, amount) in enumerate(ops):
        signed = {"in": amount, "out": -amount, "adjust": amount if i % 2 else -amount}[op]
        kind = {"in": EntryKind.TOPUP, "out": EntryKind.SPENDING, "adjust": EntryKind.ADJUSTMENT}
        post = {
            "user_id": user.id,
            "currency": "RUB",
            "kind": kind[op],
            "amount": signed,
            "reference": f"{user.id}:{i}",
        }
        if expected + signed < 0:
            with pytest.raises(InsufficientFunds):
                ledger_post(**post)
        else:
            ledger_post(**post)
            expected += signed
        account = BalanceAccount.objects.filter(user=user).first()
        assert (account.balance if account else 0) == expected
    assert ledger_check() == []


def test_plan_freeze_pauses_all_its_courses_and_refund_is_offered_once(
    client, buyer, django_capture_on_commit_callbacks
):
    from parta.billing.selectors import purchases_for
    from parta.catalog.tests.factories import CourseFactory

    item = PlanItemFactory()
    item.plan.courses.add(CourseFactory())
    pay(client, buy_json(client, item.pk)["url"])
    grants = list(AccessGrant.objects.filter(user=buyer))
    rows = purchases_for(user=buyer)
    assert [row.refundable is not None for row in rows].count(True) == 1
    response = client.post(reverse("billing:purchase-freeze", args=[grants[0].pk]), {"days": "3"})
    assert response.status_code == 302
    for grant in grants:
        assert not access_check(user=buyer, course_id=grant.course_id).allowed
        grant.refresh_from_db()
        assert grant.frozen_days == 3
    freeze = grants[0].freezes.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing:freeze-end", args=[freeze.pk]))
    for grant in grants:
        assert access_check(user=buyer, course_id=grant.course_id).allowed
    over = client.post(
        reverse("billing:purchase-freeze", args=[grants[0].pk]), {"days": "50"}, follow=True
    )
    # One day of the three was started, so six of the seven remain.
    assert any("6" in str(m) for m in over.context["messages"])
    for grant in grants:
        assert grant.freezes.count() == 1


def test_order_page_offers_and_takes_payment_from_the_balance(client, buyer):
    _topup(client, "3000")
    item = CourseItemFactory(prices={"RUB": 250000})
    body = buy_json(client, item.pk)
    page = client.get(reverse("billing:order", args=[body["order_id"]])).content.decode()
    assert reverse("billing:order-pay-from-balance", args=[body["order_id"]]) in page
    client.post(reverse("billing:order-pay-from-balance", args=[body["order_id"]]))
    assert Order.objects.get(pk=body["order_id"]).status == OrderStatus.PAID
    assert BalanceAccount.objects.get(user=buyer).balance == 50000
    assert AccessGrant.objects.filter(user=buyer, course=item.course).exists()
