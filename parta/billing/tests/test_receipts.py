"""Fiscal receipts (54-FZ): the lines add up to the charged amount to the kopeck after a
coupon and taxes, each line's price times its quantity is its amount, the VAT code comes
from the item, and a refund gets a refund receipt for what is returned."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parta.billing.models import Refund, TaxRate, VatCode
from parta.billing.providers.base import VatCode as ReceiptVat
from parta.billing.receipts import Priced, build_receipt, distribute, order_receipt
from parta.billing.services.orders import order_create, topup_create
from parta.billing.tests.factories import (
    CourseItemFactory,
    DiscountFactory,
    PlanItemFactory,
    TaxRateFactory,
)

amounts = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8)


@given(amounts=amounts, data=st.data())
def test_distributed_lines_add_up_and_never_go_below_zero(amounts, data):
    charged = data.draw(st.integers(min_value=0, max_value=sum(amounts)))
    result = distribute(amounts, charged)
    assert sum(result) == charged
    assert all(0 <= r <= a for r, a in zip(result, amounts, strict=True))


def test_the_remainder_goes_on_the_last_line():
    # 100 off 3 x 100.00: 33.33 off each of the first two (rounded down), 33.34 off the last.
    assert distribute([10000, 10000, 10000], 29900) == [9967, 9967, 9966]
    # A line that cannot take its share: the rest moves to the lines before it.
    assert distribute([1000, 1], 0) == [0, 0]
    assert distribute([500, 500, 0], 999) == [500, 499, 0]


@given(
    lines=st.lists(st.tuples(st.integers(1, 10**7), st.integers(1, 12)), min_size=1, max_size=6),
    data=st.data(),
)
def test_a_receipts_lines_price_times_quantity_is_the_charged_amount(lines, data):
    priced = [
        Priced(title=f"Line {i}", quantity=q, amount=a, vat_code=ReceiptVat.VAT20)
        for i, (a, q) in enumerate(lines)
    ]
    charged = data.draw(st.integers(0, sum(a for a, _q in lines)))
    receipt = build_receipt(email="a@example.com", currency="RUB", lines=priced, charged=charged)
    assert receipt.total == charged
    for line in receipt.lines:
        assert line.unit_amount * line.quantity == line.amount
    # Splitting a line keeps its quantity.
    assert sum(line.quantity for line in receipt.lines) == sum(q for _a, q in lines)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None)
@given(
    prices=st.lists(st.integers(100, 5_000_000), min_size=1, max_size=4),
    percent=st.integers(1, 99),
    rate_bp=st.sampled_from([500, 1000, 2000, 2200]),
    inclusive=st.booleans(),
)
def test_an_orders_receipt_with_a_coupon_and_vat_adds_up_to_the_kopeck(
    prices, percent, rate_bp, inclusive
):
    from parta.accounts.tests.factories import UserFactory

    user = UserFactory()
    items = [CourseItemFactory(prices={"RUB": price}, vat_code=VatCode.VAT22) for price in prices]
    coupon = DiscountFactory(kind="percent", percent=percent)
    # The examples share the test's transaction: only this example's tax is active.
    TaxRate.objects.update(is_active=False)
    TaxRateFactory(rate_bp=rate_bp, inclusive=inclusive)
    order = order_create(
        user=user, item_ids=[i.pk for i in items], currency="RUB", coupon=coupon.code
    )
    receipt = order_receipt(order)
    assert receipt is not None
    assert receipt.total == order.total
    assert receipt.email == user.email
    assert {line.vat_code for line in receipt.lines} == {ReceiptVat.VAT22}


@pytest.mark.django_db
def test_an_amount_coupon_over_two_lines():
    from parta.accounts.tests.factories import UserFactory

    user = UserFactory()
    a = CourseItemFactory(prices={"RUB": 100000}, vat_code=VatCode.VAT20)
    b = PlanItemFactory(prices={"RUB": 3333}, vat_code=VatCode.NONE)  # 999.90 for 30 days
    DiscountFactory(code="MINUS", kind="amount", percent=None, amount=33301, currency="RUB")
    order = order_create(user=user, item_ids=[a.pk, b.pk], currency="RUB", coupon="MINUS")
    receipt = order_receipt(order)
    assert [line.vat_code for line in receipt.lines] == [ReceiptVat.VAT20, ReceiptVat.NONE]
    assert receipt.total == order.total == 100000 + 99990 - 33301
    assert [line.title for line in receipt.lines] == [a.title, b.title]


@pytest.mark.django_db
def test_a_new_item_takes_the_default_vat_code(settings):
    settings.PARTA_DEFAULT_VAT_CODE = "vat10"
    assert CourseItemFactory().vat_code == "vat10"


@pytest.mark.django_db
def test_a_top_up_is_an_advance_and_receipts_can_be_off(settings):
    from parta.accounts.tests.factories import UserFactory

    order = topup_create(user=UserFactory(), amount=50000, currency="RUB")
    (line,) = order_receipt(order).lines
    assert (line.amount, line.payment_mode, line.payment_subject) == (50000, "advance", "payment")
    settings.PARTA_RECEIPTS = False
    assert order_receipt(order) is None


@pytest.mark.django_db
def test_a_refund_receipt_is_for_the_amount_returned():
    from parta.accounts.tests.factories import UserFactory
    from parta.billing.receipts import refund_receipt

    user = UserFactory()
    item = CourseItemFactory(prices={"RUB": 199000}, vat_code=VatCode.VAT120)
    order = order_create(user=user, item_ids=[item.pk], currency="RUB")
    refund = Refund(user=user, order_line=order.lines.get(), amount=123456, currency="RUB")
    receipt = refund_receipt(refund)
    assert receipt.refund is True
    (line,) = receipt.lines
    assert (line.amount, line.vat_code, line.title) == (123456, ReceiptVat.VAT120, item.title)
