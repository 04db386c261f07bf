import pytest
from hypothesis import given
from hypothesis import strategies as st

from parta.billing.totals import (
    TaxSpec,
    allocate,
    compute_totals,
    prorated_refund,
    round_half_up,
)


def test_round_half_up():
    assert [round_half_up(n, 2) for n in range(6)] == [0, 1, 1, 2, 2, 3]
    assert round_half_up(149, 100) == 1
    assert round_half_up(150, 100) == 2
    with pytest.raises(ValueError, match="non-negative"):
        round_half_up(-1, 2)


def test_worked_example():
    """1990.00 + 990.00, 15% off, VAT 20% on top."""
    totals = compute_totals(
        [199000, 99000], discount_percent=15, taxes=[TaxSpec("VAT", 2000, inclusive=False)]
    )
    assert totals.subtotal == 298000
    assert totals.discount == 44700
    assert [line.discount for line in totals.lines] == [29850, 14850]
    assert [line.tax_added for line in totals.lines] == [33830, 16830]
    assert totals.total == 298000 - 44700 + 50660


def test_inclusive_tax_is_shown_but_does_not_change_the_total():
    totals = compute_totals([12000], taxes=[TaxSpec("НДС", 2000, inclusive=True)])
    assert totals.tax_included == 2000
    assert totals.total == 12000


amounts = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=6)
taxes = st.lists(
    st.builds(TaxSpec, st.just("t"), st.integers(1, 10_000), st.booleans()), max_size=3
)


@given(amounts=amounts, percent=st.integers(0, 100), taxes=taxes)
def test_percent_discount_properties(amounts, percent, taxes):
    t = compute_totals(amounts, discount_percent=percent, taxes=taxes)
    assert t.total == t.subtotal - t.discount + t.tax_added
    assert 0 <= t.discount <= t.subtotal
    assert sum(line.discount for line in t.lines) == t.discount
    assert all(0 <= line.discount <= line.amount for line in t.lines)
    assert sum(line.total for line in t.lines) == t.total
    assert sum(amount for _spec, amount in t.taxes) == t.tax_added + t.tax_included
    assert abs(t.discount * 100 - t.subtotal * percent) <= 50
    if percent == 100:
        assert t.total == 0


@given(amounts=amounts, off=st.integers(0, 10**10), taxes=taxes)
def test_amount_discount_never_exceeds_the_subtotal(amounts, off, taxes):
    t = compute_totals(amounts, discount_amount=off, taxes=taxes)
    assert t.discount == min(off, t.subtotal)
    assert t.total >= 0
    exclusive = [spec for spec in taxes if not spec.inclusive]
    net = t.subtotal - t.discount
    # Per-line rounding stays within half a unit per line and tax of the exact figure.
    exact = sum(net * spec.rate_bp for spec in exclusive) / 10_000
    assert abs(t.tax_added - exact) <= 0.5 * len(amounts) * max(1, len(exclusive))


@given(
    total=st.integers(0, 10**9), weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=8)
)
def test_allocation_adds_up_and_follows_weights(total, weights):
    shares = allocate(total, weights)
    if sum(weights) == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - total * weight / sum(weights)) < 1


@given(paid=st.integers(0, 10**9), days_total=st.integers(1, 730), days_used=st.integers(-5, 800))
def test_proration_is_never_negative_nor_more_than_paid(paid, days_total, days_used):
    refund = prorated_refund(paid=paid, days_total=days_total, days_used=days_used)
    assert 0 <= refund <= paid
    if days_used >= days_total:
        assert refund == 0


def test_proration_counts_days():
    # 30 days for 3000.00: on day 1 (the purchase day) 29 days come back.
    assert prorated_refund(paid=300000, days_total=30, days_used=1) == 290000
    assert prorated_refund(paid=300000, days_total=30, days_used=30) == 0
