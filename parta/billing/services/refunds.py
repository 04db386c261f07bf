"""Refunds: a purchase's unused days (asked for through one of its grants), or a top-up
back to the payment it came from.

Each refund is created first as a pending row (unique per purchased line, so any number
of parallel requests make one), then sent to the provider with an idempotency key made
from the row's id, then settled. Money that leaves the balance is held while the
provider works and released if it fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parta.access.models import AccessGrant
from parta.access.selectors import is_staff_like
from parta.access.services import access_grant_deactivate
from parta.accounts.models import User
from parta.audit.services import record
from parta.billing.models import (
    AutoRenewal,
    EntryKind,
    Hold,
    LedgerEntry,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    RefundDestination,
    RefundStatus,
    RenewalStatus,
)
from parta.billing.notices import refund_done_notify
from parta.billing.providers.base import ProviderError, RefundRequest
from parta.billing.providers.registry import get_provider
from parta.billing.receipts import refund_receipt
from parta.billing.services.ledger import (
    Line,
    hold_capture,
    hold_place,
    hold_release,
    ledger_post,
    ledger_post_lines,
)
from parta.billing.totals import prorated_refund, round_half_up
from parta.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from parta.common.money import Money
from parta.common.time import school_day
from parta.groups.models import EndReason

_LINE_REFERENCE = re.compile(r"^order-line:(\d+)(?::course:\d+)?$")
DAY = timedelta(days=1)


class AlreadyRefunded(Conflict):
    code = "already_refunded"

    def __init__(self, refund: Refund):
        super().__init__(_("This purchase has already been refunded."))
        self.refund = refund


@dataclass(frozen=True)
class RefundQuote:
    """What a refund would return now, and how that is worked out."""

    line: OrderLine
    paid: int
    days_total: int
    days_used: int
    amount: int
    # Whole days the purchase has been paused (started days count), not used.
    days_frozen: int = 0
    # A plan's price per day at purchase; None for a course (a share of what was paid).
    per_day: int | None = None
    # Whether the money can go back to the payment (else only to the balance).
    to_card_possible: bool = False

    @property
    def currency(self) -> str:
        return self.line.order.currency

    @property
    def days_left(self) -> int:
        return self.days_total - self.days_used


def _line_of(grant: AccessGrant) -> OrderLine:
    line_id = line_id_of(grant)
    if line_id is None:
        raise ValidationFailed(
            {"grant": [_("Nothing was paid for this access, so there is nothing to refund.")]}
        )
    line = OrderLine.objects.select_related("order").filter(pk=line_id).first()
    if line is None or line.order.status != OrderStatus.PAID:
        raise ValidationFailed(
            {"grant": [_("Nothing was paid for this access, so there is nothing to refund.")]}
        )
    return line


def line_id_of(grant: AccessGrant) -> int | None:
    match = _LINE_REFERENCE.match(grant.reference or "")
    return int(match.group(1)) if match else None


def _freeze_time(grant: AccessGrant, now) -> tuple[timedelta, timedelta]:
    """How long the grant has been paused until ``now``, and how long it is still booked
    to be paused after ``now`` (a running freeze's rest)."""
    past = future = timedelta(0)
    for freeze in grant.freezes.all():
        end = freeze.ended_at or freeze.ends_at
        past += max(timedelta(0), min(end, now) - freeze.starts_at)
        future += max(timedelta(0), end - max(now, freeze.starts_at))
    return past, future


def refund_quote(
    *, grant: AccessGrant, now=None, line: OrderLine | None = None, explain: bool = False
) -> RefundQuote:
    """How much a refund of ``grant``'s purchase would return now: what was paid for
    the line minus the days used (the purchase day counts as used). Days paused are
    neither used nor added: a plan's days used are the time it ran, so a freeze never
    changes the amount. Pass ``line`` (with its order) when it is at hand, to save the
    lookup; ``explain`` also finds where the money can go (one query more)."""
    now = now or timezone.now()
    if line is None or line.order.status != OrderStatus.PAID:
        line = _line_of(grant)
    paid = line.total
    days_frozen = 0
    if line.duration_days:
        days_total = line.duration_days
        if grant.available_until is None:
            days_used = days_total
        else:
            # The grant's end moves later by every freeze; the part of a freeze still
            # ahead is not time left to use.
            past, future = _freeze_time(grant, now)
            days_frozen = -(-past // DAY)
            remaining = max(timedelta(0), grant.available_until - now - future)
            days_used = days_total - remaining // DAY
    else:
        days_total = settings.PARTA_COURSE_REFUND_DAYS
        days_used = (school_day(now) - school_day(line.order.paid_at)).days + 1
    days_used = max(1, min(days_used, days_total))
    amount = prorated_refund(paid=paid, days_total=days_total, days_used=days_used)
    return RefundQuote(
        line=line,
        paid=paid,
        days_total=days_total,
        days_used=days_used,
        amount=amount,
        days_frozen=days_frozen,
        per_day=line.per_day_amount if line.duration_days else None,
        to_card_possible=explain and Payment.objects.filter(order_id=line.order_id).exists(),
    )


def _days(n: int) -> str:
    return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}


def refund_explanation(quote: RefundQuote) -> str:
    """How the quote's amount is worked out, in words (pages, API)."""

    def money(amount: int) -> str:
        return Money(amount, quote.currency).format()

    values = {
        "paid": money(quote.paid),
        "amount": money(quote.amount),
        "total": _days(quote.days_total),
        "used": _days(quote.days_used),
        "frozen": _days(quote.days_frozen),
        "left": _days(quote.days_left),
        "left_n": quote.days_left,
        "total_n": quote.days_total,
        "per_day": money(round_half_up(quote.paid, quote.days_total)),
    }
    if quote.per_day is not None:
        text = _(
            "Paid %(paid)s for %(total)s (%(per_day)s a day). Used: %(used)s (the purchase "
            "day counts); paused: %(frozen)s, neither used nor added. Unused: %(left)s, so "
            "the refund is %(paid)s × %(left_n)d / %(total_n)d = %(amount)s."
        )
    else:
        text = _(
            "Paid %(paid)s. A course is refunded over its first %(total)s: %(used)s used "
            "(the purchase day counts). Unused: %(left)s, so the refund is %(paid)s × "
            "%(left_n)d / %(total_n)d = %(amount)s."
        )
    return text % values


def _line_grants(line: OrderLine):
    return AccessGrant.objects.filter(reference__regex=rf"^order-line:{line.id}(:course:\d+)?$")


def _record_refund(refund: Refund, *, by: User, paid: int, reason: str, obj) -> None:
    """The audit entry of a refund asked for by a person, in the refund's transaction."""
    record(
        actor=by,
        action="billing.refund",
        obj=obj,
        subject=User(pk=refund.user_id),
        before={"paid": paid, "currency": refund.currency},
        after={
            "refund": refund.pk,
            "amount": refund.amount,
            "destination": refund.destination,
            "status": refund.status,
        },
        reason=reason,
    )


def refund_grant(
    *, grant: AccessGrant, requested_by: User, to_balance: bool = False, reason: str = ""
) -> Refund:
    """Refund the purchase behind ``grant`` for its unused days and end its access.
    Back through the provider that took the money, or to the balance (always, for
    orders paid from the balance). A second request changes nothing and says so.
    Audited (``reason``) with the refund's row, before the provider is asked."""
    if grant.user_id != requested_by.id and not is_staff_like(requested_by):
        raise PermissionDenied(_("You can only refund your own purchases."))
    with transaction.atomic():
        quote = refund_quote(grant=grant)
        line = (
            OrderLine.objects.select_for_update(of=("self",))
            .select_related("order")
            .get(pk=quote.line.pk)
        )
        existing = (
            Refund.objects.filter(order_line=line).exclude(status=RefundStatus.FAILED).first()
        )
        if existing is not None:
            raise AlreadyRefunded(existing)
        if quote.amount <= 0:
            raise ValidationFailed(
                {"grant": [_("All the paid days are used: there is nothing left to refund.")]}
            )
        order = line.order
        payment = Payment.objects.filter(order=order).first()
        destination = (
            RefundDestination.BALANCE
            if to_balance or payment is None
            else RefundDestination.PROVIDER
        )
        try:
            with transaction.atomic():
                refund = Refund.objects.create(
                    user_id=grant.user_id,
                    grant=grant,
                    order_line=line,
                    payment=payment if destination == RefundDestination.PROVIDER else None,
                    amount=quote.amount,
                    currency=order.currency,
                    destination=destination,
                    requested_by=requested_by,
                    days_used=quote.days_used,
                    days_total=quote.days_total,
                    days_frozen=quote.days_frozen,
                )
        except IntegrityError as exc:
            raise AlreadyRefunded(
                Refund.objects.get(order_line=line, status__in=["pending", "succeeded"])
            ) from exc
        _record_refund(refund, by=requested_by, paid=quote.paid, reason=reason, obj=order)
        # A refunded period does not renew: its auto-renewal stops with it.
        now = timezone.now()
        AutoRenewal.objects.filter(current_order_id=order.pk, status=RenewalStatus.ACTIVE).update(
            status=RenewalStatus.ENDED,
            next_charge_at=None,
            ended_at=now,
            outcome="Ended: the plan's period was refunded.",
            updated_at=now,
        )
        if destination == RefundDestination.BALANCE:
            ledger_post(
                user_id=grant.user_id,
                currency=order.currency,
                kind=EntryKind.REFUND,
                amount=quote.amount,
                reference=f"refund:{refund.pk}",
                description=_refund_description(refund, order.pk),
                order=order,
            )
            return _succeed(refund)
    return _send_to_provider(refund)


def _refund_description(refund: Refund, order_id: int) -> str:
    return _("Refund for order #%(id)s: %(days)s") % {
        "id": order_id,
        "days": ngettext(
            "%(used)d day used of %(total)d",
            "%(used)d days used of %(total)d",
            refund.days_used,
        )
        % {"used": refund.days_used, "total": refund.days_total or refund.days_used},
    }


def _show_card_refund(refund: Refund) -> None:
    """A purchase refunded to the card passes through the balance history as a pair of
    lines (in, then out to the card), so the history tells every refund while the
    balance stays as it was."""
    line = refund.order_line
    ledger_post_lines(
        user_id=refund.user_id,
        currency=refund.currency,
        order=line.order,
        lines=[
            Line(
                kind=EntryKind.REFUND,
                amount=refund.amount,
                reference=f"refund:{refund.pk}",
                description=_refund_description(refund, line.order_id),
            ),
            Line(
                kind=EntryKind.REFUND,
                amount=-refund.amount,
                reference=f"refund:{refund.pk}:to-card",
                description=_("Refund for order #%(id)s sent back to the card")
                % {"id": line.order_id},
            ),
        ],
    )


def _succeed(refund: Refund, provider_refund_id: str = "") -> Refund:
    if refund.order_line_id and refund.destination == RefundDestination.PROVIDER:
        _show_card_refund(refund)
    refund.status = RefundStatus.SUCCEEDED
    refund.provider_refund_id = provider_refund_id or refund.provider_refund_id
    refund.save(update_fields=["status", "provider_refund_id", "updated_at"])
    if refund.payment_id:
        Payment.objects.filter(pk=refund.payment_id).update(
            refunded_amount=F("refunded_amount") + refund.amount
        )
    if refund.order_line_id:
        # Courses in primary-key order: ending the memberships locks each course in turn,
        # in the same order as placement does.
        for grant in _line_grants(refund.order_line).order_by("course_id", "pk"):
            access_grant_deactivate(grant=grant, reason=EndReason.REFUNDED)
    refund_done_notify(refund=refund)
    return refund


def _fail(refund: Refund, reason: str) -> Refund:
    refund.status = RefundStatus.FAILED
    refund.failure_reason = reason[:300]
    refund.save(update_fields=["status", "failure_reason", "updated_at"])
    hold = Hold.objects.filter(reference=f"refund:{refund.pk}:hold").first()
    if hold is not None:
        hold_release(hold=hold)
    return refund


def _send_to_provider(refund: Refund) -> Refund:
    """Outside any transaction: ask the provider, then settle what it answered."""
    payment = refund.payment
    provider = get_provider(payment.provider)
    try:
        result = provider.refund(
            RefundRequest(
                provider_payment_id=payment.provider_payment_id,
                amount=refund.amount,
                currency=refund.currency,
                idempotency_key=f"parta-refund-{refund.pk}",
                receipt=refund_receipt(refund),
            )
        )
    except ProviderError as exc:
        with transaction.atomic():
            return _fail(Refund.objects.select_for_update().get(pk=refund.pk), exc.message)
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        refund.provider_refund_id = result.refund_id
        refund.save(update_fields=["provider_refund_id", "updated_at"])
        if result.pending:
            return refund
        if result.succeeded:
            return _settle_success(refund, result.refund_id)
        return _fail(refund, result.failure_reason or "declined")


def _settle_success(refund: Refund, provider_refund_id: str) -> Refund:
    hold = Hold.objects.filter(reference=f"refund:{refund.pk}:hold").first()
    if hold is not None:
        hold_capture(
            hold=hold,
            kind=EntryKind.REFUND,
            description=_("Top-up refunded to its payment"),
            payment=refund.payment,
        )
    return _succeed(refund, provider_refund_id)


@transaction.atomic
def refund_settled(
    *, provider: str, provider_refund_id: str, succeeded: bool, reason: str = ""
) -> bool:
    """A provider's late word on a refund (webhook). Idempotent."""
    refund = (
        Refund.objects.select_for_update()
        .filter(payment__provider=provider, provider_refund_id=provider_refund_id)
        .first()
    )
    if refund is None or refund.status != RefundStatus.PENDING:
        return False
    if succeeded:
        _settle_success(refund, provider_refund_id)
    else:
        _fail(refund, reason or "declined")
    return True


def refund_topup(
    *, entry: LedgerEntry, amount: int, requested_by: User, reason: str = ""
) -> Refund:
    """Send part or all of a top-up back to the payment it came from, as long as the
    balance still covers it. The amount is held until the provider answers."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed({"amount": [_("Refund a positive amount.")]})
    entry = (
        LedgerEntry.objects.select_related("account", "payment", "order")
        .filter(pk=entry.pk)
        .first()
    )
    # Someone else's entry gets the same answer as no entry at all.
    if entry is None or (
        entry.account.user_id != requested_by.id and not is_staff_like(requested_by)
    ):
        raise NotFound(_("There is no such top-up."))
    if entry.kind != EntryKind.TOPUP or entry.order is None or entry.payment is None:
        raise NotFound(_("There is no such top-up."))
    if entry.order.purpose != "topup":
        raise ValidationFailed({"entry": [_("Only a top-up can be refunded this way.")]})
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=entry.payment_id)
        pending = sum(
            Refund.objects.filter(payment=payment, status=RefundStatus.PENDING).values_list(
                "amount", flat=True
            )
        )
        left = payment.amount - payment.refunded_amount - pending
        if amount > left:
            raise ValidationFailed(
                {
                    "amount": [
                        _("At most %(left)s of this top-up can still be refunded.")
                        % {"left": Money(max(left, 0), payment.currency).format()}
                    ]
                }
            )
        refund = Refund.objects.create(
            user_id=entry.account.user_id,
            payment=payment,
            topup_entry=entry,
            amount=amount,
            currency=payment.currency,
            destination=RefundDestination.PROVIDER,
            requested_by=requested_by,
        )
        hold_place(
            user_id=entry.account.user_id,
            currency=payment.currency,
            amount=amount,
            reference=f"refund:{refund.pk}:hold",
        )
        _record_refund(
            refund, by=requested_by, paid=payment.amount, reason=reason, obj=entry.order
        )
    return _send_to_provider(refund)


def line_grants_for(grant: AccessGrant) -> list[AccessGrant]:
    """All grants bought by the same order line as ``grant`` (a plan's courses), or just
    ``grant`` for anything else."""
    line_id = line_id_of(grant)
    if line_id is None:
        return [grant]
    return list(_line_grants(OrderLine(pk=line_id)).select_related("course").order_by("pk"))
