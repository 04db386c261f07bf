"""What billing tells people, through the outbox: receipts, refunds, freezes and the
access that is about to end. Each ``*_notify`` is called inside the transaction that
makes the event true, with a dedup key made from row ids, so a rollback stores nothing
and a replay stores nothing new."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parta.access.models import AccessFreeze, AccessGrant
from parta.notifications.channels.base import Channel
from parta.notifications.kinds import Kind, register_kind
from parta.notifications.services import notify

ALL = (Channel.EMAIL, Channel.TELEGRAM, Channel.SITE)
# Access ending: told this long before the end.
ENDING_NOTICE = timedelta(days=3)
# A freeze that ran out is told about if it ended at most this long ago (so the first
# run after a long stop does not tell people about freezes long gone).
FREEZE_END_WINDOW = timedelta(days=2)
BATCH = 500
# A plan that renews itself: the buyer is told this long before the charge.
RENEWAL_NOTICE = timedelta(days=3)


def register_kinds() -> None:
    register_kind(Kind(name="receipt", label=_("Receipts"), mandatory=True, channels=ALL))
    register_kind(Kind(name="refund_done", label=_("Refunds"), channels=ALL))
    register_kind(Kind(name="freeze_started", label=_("Freeze started"), channels=ALL))
    register_kind(Kind(name="freeze_ended", label=_("Freeze ended"), channels=ALL))
    register_kind(Kind(name="access_ending", label=_("Access ending soon"), channels=ALL))
    register_kind(
        Kind(name="renewal_upcoming", label=_("Auto-renewal: charge coming"), channels=ALL)
    )
    # A declined charge and a renewal that stopped concern money: always told.
    register_kind(
        Kind(
            name="renewal_failed",
            label=_("Auto-renewal: charge declined"),
            mandatory=True,
            channels=ALL,
        )
    )
    register_kind(
        Kind(name="renewal_ended", label=_("Auto-renewal stopped"), mandatory=True, channels=ALL)
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def receipt_notify(*, order) -> None:
    """The receipt of a paid order: its lines, coupon, taxes and total."""
    lines = list(
        order.lines.order_by("pk").values(
            "title", "unit_amount", "discount_amount", "tax_amount", "total"
        )
    )
    taxes = list(order.taxes.order_by("pk").values("name", "rate_bp", "inclusive", "amount"))
    coupon = order.discount.code if order.discount_id else ""
    notify(
        user=order.user,
        kind="receipt",
        dedup_key=f"receipt:order:{order.pk}",
        context={
            "order_id": order.pk,
            "purpose": order.purpose,
            "currency": order.currency,
            "lines": lines,
            "coupon": coupon,
            "subtotal": order.subtotal,
            "discount_total": order.discount_total,
            "taxes": taxes,
            "tax_total": order.tax_total,
            "tax_included": order.tax_included,
            "total": order.total,
            "provider": order.provider,
            "paid_at": _iso(order.paid_at),
            "path": reverse("billing:order", args=[order.pk]),
        },
    )


def refund_done_notify(*, refund) -> None:
    line = refund.order_line if refund.order_line_id else None
    notify(
        user=refund.user,
        kind="refund_done",
        dedup_key=f"refund_done:{refund.pk}",
        context={
            "refund_id": refund.pk,
            "amount": refund.amount,
            "currency": refund.currency,
            "destination": refund.destination,
            "title": line.title if line else "",
            "order_id": line.order_id if line else None,
            "days_used": refund.days_used,
            "days_total": refund.days_total,
            "path": reverse("billing:balance"),
        },
    )


def _freeze_context(freezes: list[AccessFreeze]) -> dict:
    first = freezes[0]
    grants = [freeze.grant for freeze in freezes]
    return {
        "freeze_id": first.pk,
        "courses": [grant.course.title for grant in grants],
        "days": first.days,
        "ends_at": _iso(first.effective_end),
        "available_until": _iso(max(grant.available_until for grant in grants)),
        "path": reverse("billing:purchases"),
    }


def freeze_started_notify(*, freezes: list[AccessFreeze]) -> None:
    """One message per purchase frozen (a plan's courses freeze together); keyed by the
    first freeze (the purchase's first grant's)."""
    if not freezes:
        return
    notify(
        user=freezes[0].grant.user,
        kind="freeze_started",
        dedup_key=f"freeze:{freezes[0].pk}:started",
        context=_freeze_context(freezes),
    )


def freeze_ended_notify(*, freezes: list[AccessFreeze]) -> None:
    """Ended early by hand or run out: the same key, so told once either way."""
    if not freezes:
        return
    notify(
        user=freezes[0].grant.user,
        kind="freeze_ended",
        dedup_key=f"freeze:{freezes[0].pk}:ended",
        context=_freeze_context(freezes),
    )


def freezes_ran_out_notify(*, now: datetime | None = None) -> int:
    """Tell people whose freeze ran out by itself (nobody ended it, so no service saw it
    end). Safe to run any number of times: the key is the one an early end uses."""
    from parta.billing.services.refunds import line_grants_for

    now = now or timezone.now()
    told = 0
    freezes = (
        AccessFreeze.objects.filter(
            ended_at__isnull=True, ends_at__lte=now, ends_at__gt=now - FREEZE_END_WINDOW
        )
        .select_related("grant__user", "grant__course")
        .order_by("pk")
    )
    for freeze in freezes.iterator(chunk_size=BATCH):
        siblings = line_grants_for(freeze.grant)
        # A plan's grants froze together: the purchase's first grant speaks for them.
        if siblings and siblings[0].pk != freeze.grant_id:
            continue
        group = [freeze]
        others = {
            item.grant_id: item
            for item in AccessFreeze.objects.filter(
                grant__in=[g.pk for g in siblings[1:]],
                ended_at__isnull=True,
                ends_at__lte=now,
                ends_at__gt=now - FREEZE_END_WINDOW,
            ).select_related("grant__course")
        }
        group += [others[g.pk] for g in siblings[1:] if g.pk in others]
        with transaction.atomic():
            freeze_ended_notify(freezes=group)
        told += 1
    return told


def _renewing_line_ids() -> set[int]:
    """The order lines whose plan renews itself (the period running now)."""
    from parta.billing.models import AutoRenewal

    return set(
        AutoRenewal.objects.filter(status="active", current_order__isnull=False).values_list(
            "current_order__lines__id", flat=True
        )
    )


def _line_of(grant: AccessGrant) -> int | None:
    # "order-line:<line id>:course:<course id>" for a plan's grant.
    parts = grant.reference.split(":")
    if len(parts) >= 2 and parts[0] == "order-line" and parts[1].isdigit():
        return int(parts[1])
    return None


def access_ending_notify(*, now: datetime | None = None) -> int:
    """Tell students whose access ends within three days. Once per grant and end: a
    freeze that moves the end makes a new key, so the new end is told again."""
    now = now or timezone.now()
    told = 0
    grants = (
        AccessGrant.objects.filter(
            is_active=True,
            starts_at__lte=now,
            available_until__gt=now,
            available_until__lte=now + ENDING_NOTICE,
        )
        .select_related("user", "course")
        .order_by("pk")
    )
    renewing = _renewing_line_ids()
    for grant in grants.iterator(chunk_size=BATCH):
        if _line_of(grant) in renewing:
            continue  # the plan renews itself: its own reminder tells of the charge
        left = grant.available_until - now
        notify(
            user=grant.user,
            kind="access_ending",
            dedup_key=f"access_ending:{grant.pk}:{int(grant.available_until.timestamp())}",
            context={
                "grant_id": grant.pk,
                "course": grant.course.title,
                "ends_at": _iso(grant.available_until),
                # Whole days left, rounded up: "ends in 3 days" until the last day.
                "days_left": max(1, -(-left // timedelta(days=1))),
                "path": reverse("learning:course", args=[grant.course.slug]),
            },
        )
        told += 1
    return told


def _renewal_context(renewal, amount: int | None = None) -> dict:
    return {
        "renewal_id": renewal.pk,
        "title": renewal.item.title,
        "currency": renewal.currency,
        "amount": amount,
        "charge_at": _iso(renewal.next_charge_at),
        "path": reverse("billing:purchases"),
    }


def renewal_upcoming_notify(*, renewal, amount: int) -> None:
    """The charge of the next period is coming: once per renewal and period."""
    notify(
        user=renewal.user,
        kind="renewal_upcoming",
        dedup_key=f"renewal_upcoming:{renewal.pk}:{renewal.period + 1}",
        context=_renewal_context(renewal, amount),
    )


def renewal_failed_notify(*, renewal, charge, amount: int, last: bool) -> None:
    """A charge was declined: when it is tried again, or that it was the last try."""
    notify(
        user=renewal.user,
        kind="renewal_failed",
        dedup_key=f"renewal_failed:{renewal.pk}:{charge.period}:{charge.attempts}",
        context={
            **_renewal_context(renewal, amount),
            "last": last,
            "attempt": charge.attempts,
        },
    )


def renewal_ended_notify(*, renewal, reason: str) -> None:
    """The renewal stopped by itself (``reason``: refunded, method_gone, not_on_sale)."""
    notify(
        user=renewal.user,
        kind="renewal_ended",
        dedup_key=f"renewal_ended:{renewal.pk}",
        context={**_renewal_context(renewal), "reason": reason},
    )
