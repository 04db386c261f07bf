"""Fiscal receipts (54-FZ): what a provider's online cash desk needs to issue the receipt
for a payment or a refund: the lines (title, quantity, price, VAT code), the buyer's
email and the school's taxation system.

The lines add up to the charged amount to the kopeck: a coupon's discount is shared over
the lines in proportion to their amounts (rounded down) and what rounding leaves goes on
the last line. A line whose amount is not a whole multiple of its quantity is split in two
(some units one kopeck dearer), since a receipt line's price times its quantity must be
its amount exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from parta.billing.models import Order, OrderPurpose, Refund
from parta.billing.providers.base import Receipt, ReceiptLine, VatCode

# The longest line title the providers take (YooKassa, T-Bank and CloudPayments: 128).
MAX_TITLE = 128


@dataclass(frozen=True)
class Priced:
    """A line before the discount: ``amount`` for all ``quantity`` units."""

    title: str
    quantity: int
    amount: int
    vat_code: VatCode
    payment_subject: str = "service"
    payment_mode: str = "full_payment"


def distribute(amounts: Sequence[int], charged: int) -> list[int]:
    """``amounts`` (non-negative, before the discount) brought to ``charged``: the
    difference shared in proportion (rounded down), the remainder on the last line; a
    line never goes below zero (what it cannot take moves to the lines before it)."""
    if any(a < 0 for a in amounts) or charged < 0:
        raise ValueError("amounts and the charged amount cannot be negative")
    if not amounts:
        if charged:
            raise ValueError("a charged amount needs at least one line")
        return []
    whole = sum(amounts)
    if charged >= whole:
        # Nothing to take off (a surcharge, never expected): the difference on the last line.
        return [*amounts[:-1], amounts[-1] + charged - whole]
    discount = whole - charged
    shares = [discount * a // whole for a in amounts]
    shares[-1] += discount - sum(shares)
    result = [a - s for a, s in zip(amounts, shares, strict=True)]
    # The last line may have taken more than it had: move the excess backwards.
    excess = -result[-1] if result[-1] < 0 else 0
    if excess:
        result[-1] = 0
        for i in range(len(result) - 2, -1, -1):
            taken = min(excess, result[i])
            result[i] -= taken
            excess -= taken
            if not excess:
                break
    return result


def _split(line: Priced, amount: int) -> list[ReceiptLine]:
    unit, rem = divmod(amount, line.quantity)
    title = line.title[:MAX_TITLE]
    parts = []
    if rem:
        parts.append((rem, unit + 1))
    if line.quantity - rem:
        parts.append((line.quantity - rem, unit))
    return [
        ReceiptLine(
            title=title,
            quantity=quantity,
            unit_amount=price,
            amount=quantity * price,
            vat_code=line.vat_code,
            payment_subject=line.payment_subject,
            payment_mode=line.payment_mode,
        )
        for quantity, price in parts
    ]


def build_receipt(
    *, email: str, currency: str, lines: Sequence[Priced], charged: int, refund: bool = False
) -> Receipt:
    """A receipt for ``lines`` whose amounts add up to ``charged`` exactly."""
    amounts = distribute([line.amount for line in lines], charged)
    receipt_lines: list[ReceiptLine] = []
    for line, amount in zip(lines, amounts, strict=True):
        receipt_lines.extend(_split(line, amount))
    return Receipt(
        email=email,
        currency=currency,
        lines=tuple(receipt_lines),
        taxation=settings.PARTA_RECEIPT_TAXATION,
        refund=refund,
    )


def _vat(code: str) -> VatCode:
    try:
        return VatCode(code)
    except ValueError:
        return VatCode(settings.PARTA_DEFAULT_VAT_CODE)


def _topup_line(amount: int) -> Priced:
    # A top-up is money in advance for services to come ("advance" / "payment" in 54-FZ).
    return Priced(
        title=_("Balance top-up"),
        quantity=1,
        amount=amount,
        vat_code=_vat(settings.PARTA_DEFAULT_VAT_CODE),
        payment_subject="payment",
        payment_mode="advance",
    )


def order_receipt(order: Order) -> Receipt | None:
    """The receipt for paying ``order`` (None when receipts are off or nothing is due).
    Each line's price is its amount with the taxes added, before the coupon; the coupon
    comes off over the lines."""
    if not settings.PARTA_RECEIPTS or order.total <= 0:
        return None
    if order.purpose == OrderPurpose.TOPUP:
        lines = [_topup_line(order.total)]
    else:
        lines = [
            Priced(
                title=line.title,
                quantity=1,
                amount=line.unit_amount + line.tax_amount,
                vat_code=_vat(line.item.vat_code),
            )
            for line in order.lines.select_related("item").order_by("id")
        ]
    return build_receipt(
        email=order.user.email, currency=order.currency, lines=lines, charged=order.total
    )


def refund_receipt(refund: Refund) -> Receipt | None:
    """The refund receipt ("return of income") for ``refund``: the line it refunds, for
    the amount returned."""
    if not settings.PARTA_RECEIPTS or refund.amount <= 0:
        return None
    line = refund.order_line
    if line is None:
        priced = _topup_line(refund.amount)
    else:
        priced = Priced(
            title=line.title, quantity=1, amount=refund.amount, vat_code=_vat(line.item.vat_code)
        )
    return build_receipt(
        email=refund.user.email,
        currency=refund.currency,
        lines=[priced],
        charged=refund.amount,
        refund=True,
    )
