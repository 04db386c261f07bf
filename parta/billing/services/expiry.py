"""Periodic clean-up: grants past their end are switched off (and the student told), and
orders left unpaid (past the checkout's expiry, or too long with no checkout) are
closed. Both are safe to run at any time and any number of times; access is refused
after ``available_until`` anyway, whether or not this has run yet."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from parta.access.models import AccessGrant
from parta.access.services import access_grant_deactivate
from parta.billing.models import Order, OrderStatus
from parta.billing.services.fulfilment import order_ended_unpaid
from parta.groups.models import EndReason
from parta.notifications.services import notify

BATCH = 500


def _tell_student(grant: AccessGrant) -> None:
    """Queue the "access ended" message in the current transaction (sent after commit)."""
    notify(
        user=grant.user,
        kind="access_ended",
        context={
            "course_id": grant.course_id,
            "course_title": grant.course.title,
            "available_until": grant.available_until,
        },
        # Once per ending: a grant renewed and ended again is told again.
        dedup_key=f"access_ended:{grant.pk}:{grant.available_until.isoformat()}",
    )


def grants_expire(*, now=None) -> int:
    """Switch off active grants whose end has passed; return how many."""
    now = now or timezone.now()
    count = 0
    while True:
        ids = list(
            AccessGrant.objects.filter(is_active=True, available_until__lte=now)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return count
        for grant_id in ids:
            with transaction.atomic():
                grant = (
                    AccessGrant.objects.select_for_update(of=("self",))
                    .select_related("user", "course")
                    .get(pk=grant_id)
                )
                if (
                    not grant.is_active
                    or grant.available_until is None
                    or grant.available_until > now
                ):
                    continue
                access_grant_deactivate(grant=grant, reason=EndReason.EXPIRED)
                # A renewal bought in advance carries on from this end: nothing ended for
                # the student (when it has ended too, its own expiry tells them, once).
                end = grant.available_until
                renewed = AccessGrant.objects.filter(
                    user_id=grant.user_id,
                    course_id=grant.course_id,
                    is_active=True,
                    starts_at__lte=end,
                ).filter(Q(available_until__isnull=True) | Q(available_until__gt=end))
                if not renewed.exists():
                    _tell_student(grant)
                count += 1


def orders_expire(*, now=None) -> int:
    """Close pending orders nobody is paying any more and give their coupon uses back:
    those whose checkout expired, and those placed more than
    ``PARTA_UNPAID_ORDER_MINUTES`` ago with no checkout open (never sent to one, or
    one that has closed). Returns how many."""
    now = now or timezone.now()
    placed_before = now - timedelta(minutes=settings.PARTA_UNPAID_ORDER_MINUTES)
    count = 0
    while True:
        stale = list(
            Order.objects.filter(status=OrderStatus.PENDING)
            .filter(
                Q(checkout_expires_at__lte=now)
                | Q(checkout_expires_at__isnull=True, created_at__lte=placed_before)
            )
            .order_by("pk")
            .values_list("pk", "checkout_expires_at")[:BATCH]
        )
        if not stale:
            return count
        for order_id, checkout_expires_at in stale:
            reason = "checkout expired" if checkout_expires_at else "not paid in time"
            if order_ended_unpaid(
                order=Order(pk=order_id), status=OrderStatus.EXPIRED, reason=reason
            ):
                count += 1


# The periodic task's older name.
checkouts_expire = orders_expire
