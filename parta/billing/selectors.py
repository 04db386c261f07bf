"""Reads for billing pages and the API."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.access.models import AccessFreeze, AccessGrant
from parta.accounts.models import User
from parta.billing.models import (
    AutoRenewal,
    BalanceAccount,
    EntryKind,
    Item,
    ItemKind,
    LedgerEntry,
    Order,
    OrderLine,
    OrderPurpose,
    Refund,
    RefundStatus,
    RenewalStatus,
    TaxRate,
)
from parta.billing.services.refunds import line_id_of, refund_quote
from parta.billing.services.renewals import renewal_amount
from parta.common.errors import ApplicationError


@dataclass
class PurchaseRow:
    """One purchase (an order line): a course, or a plan with all its courses."""

    grant: AccessGrant  # the first of its grants: refunds and pauses are asked through it
    grants: list[AccessGrant]
    line: OrderLine | None
    refundable: int | None  # minor units, None when nothing can be refunded
    currency: str
    refund: Refund | None
    running_freeze: AccessFreeze | None
    freeze_days_left: int
    state: str  # "active", "paused", "refunded" or "ended"
    # The plan renews itself: the renewal and what its next charge takes (minor units).
    renewal: AutoRenewal | None = None
    renewal_amount: int = 0

    @property
    def order(self) -> Order | None:
        return self.line.order if self.line else None

    @property
    def title(self) -> str:
        return self.line.title if self.line else self.grant.course.title

    @property
    def is_plan(self) -> bool:
        return bool(self.line and self.line.duration_days)

    @property
    def courses(self):
        return [grant.course for grant in self.grants]


def _state(grant: AccessGrant, refund: Refund | None, running, now) -> str:
    if refund is not None and refund.status == RefundStatus.SUCCEEDED:
        return "refunded"
    if not grant.is_active or (grant.available_until and grant.available_until <= now):
        return "ended"
    return "paused" if running else "active"


def purchases_for(*, user: User) -> list[PurchaseRow]:
    """The user's purchases, newest first: what was bought (a plan names its courses),
    in which order, for how much, from when until when, what a refund would return now,
    and the pause that runs. A fixed number of queries however many there are."""
    grants = list(
        AccessGrant.objects.filter(user=user)
        .exclude(reference="")
        .select_related("course")
        .prefetch_related("freezes")
        .order_by("-starts_at", "id")
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
    rows: list[PurchaseRow] = []
    by_line: dict[int, PurchaseRow] = {}
    for grant in grants:
        line = lines.get(line_id_of(grant) or 0)
        if line is not None and line.pk in by_line:
            # A plan's courses share one purchase: one row lists them all.
            by_line[line.pk].grants.append(grant)
            continue
        refundable, line_refund = None, refunds.get(line.pk) if line else None
        try:
            quote = refund_quote(grant=grant, now=now, line=line)
            if grant.is_active and line_refund is None and quote.amount > 0:
                refundable = quote.amount
        except ApplicationError:
            pass
        running = next(
            (f for f in grant.freezes.all() if f.ended_at is None and f.ends_at > now), None
        )
        row = PurchaseRow(
            grant=grant,
            grants=[grant],
            line=line,
            refundable=refundable,
            currency=line.order.currency if line else "",
            refund=line_refund,
            running_freeze=running,
            freeze_days_left=max(0, grant.freeze_limit_days - grant.frozen_days),
            state=_state(grant, line_refund, running, now),
        )
        rows.append(row)
        if line is not None:
            by_line[line.pk] = row
    _attach_renewals(user, rows)
    return rows


def _attach_renewals(user: User, rows: list[PurchaseRow]) -> None:
    """Each renewal that is on goes with the purchase of the period that runs now."""
    renewals = {
        renewal.current_order_id: renewal
        for renewal in AutoRenewal.objects.filter(user=user, status=RenewalStatus.ACTIVE)
        .select_related("item")
        .prefetch_related("item__prices")
    }
    if not renewals:
        return
    taxes = list(TaxRate.objects.filter(is_active=True).order_by("id"))
    for row in rows:
        renewal = renewals.get(row.line.order_id) if row.line else None
        if renewal is not None and row.state in ("active", "paused"):
            row.renewal = renewal
            row.renewal_amount = renewal_amount(
                item=renewal.item, currency=renewal.currency, taxes=taxes
            )


def lifetime_course_ids(*, user: User, course_ids) -> set[int]:
    """Which of ``course_ids`` the user already owns for good (an active grant with no
    end): a plan would add nothing to them."""
    if not user.is_authenticated:
        return set()
    return set(
        AccessGrant.objects.filter(
            user=user, course_id__in=list(course_ids), is_active=True, available_until=None
        ).values_list("course_id", flat=True)
    )


def balances_for(*, user: User) -> list[BalanceAccount]:
    return list(BalanceAccount.objects.filter(user=user).order_by("currency"))


def history_for(*, user: User, limit: int = 100) -> list[LedgerEntry]:
    """The balance history, newest first; each entry's ``what`` says what it was in the
    reader's language (built from its kind and references, not from the stored text,
    which is in the language of whoever caused it)."""
    entries = list(
        LedgerEntry.objects.filter(account__user=user)
        .select_related("account", "order", "payment")
        .prefetch_related(
            Prefetch("order__lines", queryset=OrderLine.objects.only("order_id", "title"))
        )
        .order_by("-created_at", "-id")[:limit]
    )
    for entry in entries:
        entry.what = entry_text(entry)
    return entries


def entry_text(entry: LedgerEntry) -> str:
    """What a ledger entry was, in the active language."""
    order = entry.order
    titles = ", ".join(line.title for line in order.lines.all()) if order else ""
    number = {"id": order.pk if order else 0, "what": titles}
    if entry.kind == EntryKind.TOPUP:
        if order and order.purpose == OrderPurpose.PURCHASE:
            # A card payment passes through the balance on its way to the purchase.
            return _("Paid by card, order #%(id)s") % number
        return _("Top-up, order #%(id)s") % number if order else _("Top-up")
    if entry.kind == EntryKind.SPENDING:
        if order and titles:
            return _("Paid for %(what)s, order #%(id)s") % number
        return _("Paid for order #%(id)s") % number if order else _("Payment")
    if entry.kind == EntryKind.REFUND:
        if entry.amount < 0:
            if entry.reference.endswith(":to-card") and order:
                # The second of a card refund's pair: in, then straight out to the card.
                return _("Refund for order #%(id)s sent back to the card") % number
            return _("Top-up returned to the card")
        if order and titles:
            return _("Refund for %(what)s, order #%(id)s") % number
        return _("Refund")
    if entry.kind == EntryKind.ADJUSTMENT:
        # The stored text is "<prefix in some language>: <the staff member's reason>".
        reason = entry.description.split(": ", 1)[1] if ": " in entry.description else ""
        return (
            _("Correction by staff: %(reason)s") % {"reason": reason}
            if reason
            else _("Correction by staff")
        )
    return entry.get_kind_display()


def orders_for(*, user: User, limit: int = 100) -> list[Order]:
    return list(Order.objects.filter(user=user).order_by("-created_at")[:limit])


def plans_on_sale() -> list[Item]:
    """Published plans on sale, with their courses and prices (the catalogue)."""
    return list(
        Item.objects.filter(kind=ItemKind.PLAN, is_active=True, plan__is_published=True)
        .select_related("plan")
        .prefetch_related("prices", "plan__courses")
        .order_by("id")
    )
