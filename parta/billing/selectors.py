"""Reads for billing pages and the API."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from parta.access.models import AccessFreeze, AccessGrant
from parta.accounts.models import User
from parta.billing.models import (
    BalanceAccount,
    LedgerEntry,
    Order,
    OrderLine,
    Refund,
    RefundStatus,
)
from parta.billing.services.refunds import line_id_of, refund_quote
from parta.common.errors import ApplicationError


@dataclass
class PurchaseRow:
    grant: AccessGrant
    refundable: int | None  # minor units, None when nothing can be refunded
    currency: str
    refund: Refund | None
    running_freeze: AccessFreeze | None
    freeze_days_left: int
    # Bought together with the row above (a plan): refunds and pauses act on both.
    shared: bool = False


def purchases_for(*, user: User) -> list[PurchaseRow]:
    """The user's paid grants with what a refund would return now and their freezes."""
    grants = list(
        AccessGrant.objects.filter(user=user)
        .exclude(reference="")
        .select_related("course")
        .prefetch_related("freezes")
        .order_by("-starts_at")
    )
    refunds = {
        r.order_line_id: r
        for r in Refund.objects.filter(user=user, order_line__isnull=False).exclude(
            status=RefundStatus.FAILED
        )
    }
    now = timezone.now()
    lines = OrderLine.objects.select_related("order").in_bulk(
        {line_id for grant in grants if (line_id := line_id_of(grant)) is not None}
    )
    rows = []
    seen_lines: set[int] = set()
    for grant in grants:
        refundable, currency, line_refund, shared = None, "", None, False
        try:
            quote = refund_quote(grant=grant, now=now, line=lines.get(line_id_of(grant) or 0))
            currency = quote.line.order.currency
            line_refund = refunds.get(quote.line.pk)
            # A plan's courses share one purchase: offer its refund once.
            shared = quote.line.pk in seen_lines
            seen_lines.add(quote.line.pk)
            if grant.is_active and line_refund is None and quote.amount > 0 and not shared:
                refundable = quote.amount
        except ApplicationError:
            pass
        running = next(
            (f for f in grant.freezes.all() if f.ended_at is None and f.ends_at > now), None
        )
        rows.append(
            PurchaseRow(
                grant=grant,
                refundable=refundable,
                currency=currency,
                refund=line_refund,
                running_freeze=running,
                freeze_days_left=max(0, grant.freeze_limit_days - grant.frozen_days),
                shared=shared,
            )
        )
    return rows


def balances_for(*, user: User) -> list[BalanceAccount]:
    return list(BalanceAccount.objects.filter(user=user).order_by("currency"))


def history_for(*, user: User, limit: int = 100) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(account__user=user)
        .select_related("account", "order", "payment")
        .order_by("-created_at", "-id")[:limit]
    )


def orders_for(*, user: User, limit: int = 100) -> list[Order]:
    return list(Order.objects.filter(user=user).order_by("-created_at")[:limit])
