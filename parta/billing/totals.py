"""Order totals in integer minor units.

The rounding rule (one, everywhere): an amount that does not come out whole is rounded
to the nearest minor unit, halves up, once, per line:

- the order's discount is computed on the subtotal (a percent rounds half up; a fixed
  amount is capped at the subtotal) and then shared out over the lines in proportion to
  their amounts, remainders going to the lines with the largest fractions (ties: the
  earlier line), so the line shares add up to the discount exactly;
- each tax is computed per line on the line's amount after its discount share:
  exclusive taxes add ``net x rate``; inclusive taxes are the part ``net x rate / (1 +
  rate)`` already inside the price and do not change the total;
- order amounts are the sums of the line amounts.

This is the same per-line arithmetic a provider's checkout performs, so the total Parta
shows and the total the buyer is charged agree to the kopeck.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator for non-negative integers, rounded half up."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True)
class TaxSpec:
    name: str
    rate_bp: int  # basis points: 2000 = 20%
    inclusive: bool


@dataclass
class LineTotals:
    amount: int
    discount: int = 0
    tax_added: int = 0
    tax_included: int = 0

    @property
    def total(self) -> int:
        return self.amount - self.discount + self.tax_added


@dataclass
class Totals:
    lines: list[LineTotals]
    subtotal: int
    discount: int
    tax_added: int
    tax_included: int
    # Per tax: (spec, amount), in the order given.
    taxes: list[tuple[TaxSpec, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.subtotal - self.discount + self.tax_added


def discount_for(subtotal: int, *, percent: int | None = None, amount: int | None = None) -> int:
    if percent is not None:
        if not 0 <= percent <= 100:
            raise ValueError("percent must be within 0..100")
        return round_half_up(subtotal * percent, 100)
    if amount is not None:
        if amount < 0:
            raise ValueError("a discount amount cannot be negative")
        return min(amount, subtotal)
    return 0


def allocate(total: int, weights: list[int]) -> list[int]:
    """Share ``total`` over ``weights`` proportionally (largest remainder)."""
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = [(total * w % whole, -i) for i, w in enumerate(weights)]
    left = total - sum(shares)
    for _rem, neg_index in sorted(remainders, reverse=True)[:left]:
        shares[-neg_index] += 1
    return shares


def compute_totals(
    amounts: list[int],
    *,
    discount_percent: int | None = None,
    discount_amount: int | None = None,
    taxes: list[TaxSpec] | None = None,
) -> Totals:
    if any(a < 0 for a in amounts):
        raise ValueError("line amounts cannot be negative")
    taxes = taxes or []
    subtotal = sum(amounts)
    discount = discount_for(subtotal, percent=discount_percent, amount=discount_amount)
    lines = [
        LineTotals(amount=a, discount=d)
        for a, d in zip(amounts, allocate(discount, amounts), strict=True)
    ]
    per_tax = [0] * len(taxes)
    for line in lines:
        net = line.amount - line.discount
        for i, tax in enumerate(taxes):
            if tax.inclusive:
                part = round_half_up(net * tax.rate_bp, 10_000 + tax.rate_bp)
                line.tax_included += part
            else:
                part = round_half_up(net * tax.rate_bp, 10_000)
                line.tax_added += part
            per_tax[i] += part
    return Totals(
        lines=lines,
        subtotal=subtotal,
        discount=discount,
        tax_added=sum(line.tax_added for line in lines),
        tax_included=sum(line.tax_included for line in lines),
        taxes=list(zip(taxes, per_tax, strict=True)),
    )


def prorated_refund(*, paid: int, days_total: int, days_used: int) -> int:
    """What is left of ``paid`` after ``days_used`` of ``days_total`` days: never
    negative, never more than paid. The purchase day counts as used (callers pass at
    least 1)."""
    if paid < 0 or days_total < 1:
        raise ValueError("paid must be >= 0 and days_total >= 1")
    used = min(max(days_used, 0), days_total)
    return paid - round_half_up(paid * used, days_total)
