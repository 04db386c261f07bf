"""What happens when an order is paid, fails or expires. Called inside the webhook's
transaction (or the balance payment's), with the order row locked; every step is
idempotent, so a replayed or late event changes nothing."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.access.models import AccessGrant, GrantSource
from parta.access.services import GrantSpec, access_grants_create_many
from parta.billing.models import (
    Discount,
    EntryKind,
    ItemKind,
    Order,
    OrderPurpose,
    OrderStatus,
    Payment,
    Plan,
)
from parta.billing.notices import receipt_notify
from parta.billing.services.ledger import Line, ledger_post, ledger_post_lines
from parta.billing.services.orders import discount_release, order_create
from parta.common.db import insert_unless_exists
from parta.common.errors import ApplicationError
from parta.common.money import CURRENCY_EXPONENT, Money


class PaymentMismatch(ApplicationError):
    """The provider reports a payment that does not match the order."""

    code = "payment_mismatch"


def _check_amount(order: Order, *, amount: int | None, currency: str) -> None:
    """A paid event must name the order's exact amount and currency: one that names
    none (or not as a number) pays nothing, like one with a wrong amount."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise PaymentMismatch(_("The payment event gives no amount, so it cannot pay the order."))
    code = (currency or "").upper()
    if amount == order.total and code == order.currency:
        return
    if code in CURRENCY_EXPONENT:
        shown = Money(amount, code).format()
    else:
        shown = f"{amount} {code or '?'}"
    raise PaymentMismatch(
        _("The payment (%(amount)s) does not match the order (%(total)s).")
        % {"amount": shown, "total": Money(order.total, order.currency).format()}
    )


def line_reference(line_id: int, course_id: int | None = None) -> str:
    return (
        f"order-line:{line_id}"
        if course_id is None
        else f"order-line:{line_id}:course:{course_id}"
    )


def _grant_lines(order: Order, now) -> None:
    """One grant per course bought (a plan's every course), all in one statement."""
    specs: list[GrantSpec] = []
    lines = list(
        order.lines.values("id", "duration_days", "item__kind", "item__course_id", "item__plan_id")
    )
    plan_ids = {line["item__plan_id"] for line in lines if line["item__kind"] == ItemKind.PLAN}
    plans = Plan.objects.prefetch_related("courses").in_bulk(plan_ids) if plan_ids else {}
    # A plan bought while an earlier period still runs extends it: the new period of each
    # course starts where the student's latest running time-limited grant of it ends.
    running_until = (
        dict(
            AccessGrant.objects.filter(
                user_id=order.user_id,
                course__plans__in=plan_ids,
                is_active=True,
                available_until__gt=now,
            )
            .values("course_id")
            .annotate(until=Max("available_until"))
            .values_list("course_id", "until")
        )
        if plan_ids
        else {}
    )
    for line in lines:
        if line["item__kind"] == ItemKind.COURSE:
            specs.append(
                GrantSpec(
                    user_id=order.user_id,
                    course_id=line["item__course_id"],
                    source=GrantSource.PURCHASE,
                    starts_at=now,
                    reference=line_reference(line["id"]),
                    note=f"order #{order.pk}",
                )
            )
            continue
        plan = plans[line["item__plan_id"]]
        period = timedelta(days=line["duration_days"] or plan.duration_days)
        for course in plan.courses.all():
            starts_at = max(now, running_until.get(course.pk, now))
            specs.append(
                GrantSpec(
                    user_id=order.user_id,
                    course_id=course.pk,
                    source=GrantSource.PLAN,
                    starts_at=starts_at,
                    available_until=starts_at + period,
                    freeze_limit_days=plan.freeze_limit_days,
                    reference=line_reference(line["id"], course.pk),
                    note=f"order #{order.pk}: {plan.title}",
                )
            )
    access_grants_create_many(specs)


def _complete(order: Order, *, payment: Payment | None) -> None:
    now = timezone.now()
    order.status = OrderStatus.PAID
    order.paid_at = now
    order.failure_reason = ""
    order.save(update_fields=["status", "paid_at", "failure_reason", "updated_at"])
    if order.purpose == OrderPurpose.TOPUP:
        ledger_post(
            user_id=order.user_id,
            currency=order.currency,
            kind=EntryKind.TOPUP,
            amount=order.total,
            reference=f"order:{order.pk}:topup",
            description=_("order #%(id)s") % {"id": order.pk},
            order=order,
            payment=payment,
        )
        receipt_notify(order=order)
        return
    if payment is not None and order.total > 0:
        # Money paid at the provider passes through the ledger, so the user's history
        # shows every purchase; the balance itself is unchanged.
        ledger_post_lines(
            user_id=order.user_id,
            currency=order.currency,
            order=order,
            payment=payment,
            savepoint=False,  # order_paid's caller rolls back on any error
            # Under the order's lock, unpaid until now: these references are new.
            check_existing=False,
            lines=[
                Line(
                    EntryKind.TOPUP,
                    order.total,
                    f"order:{order.pk}:paid-in",
                    _("Payment for order #%(id)s") % {"id": order.pk},
                ),
                Line(
                    EntryKind.SPENDING,
                    -order.total,
                    f"order:{order.pk}:spend",
                    _("Order #%(id)s") % {"id": order.pk},
                ),
            ],
        )
    receipt_notify(order=order)
    # Last: the grants place the student in a study group, which holds the course's lock
    # until this transaction commits.
    _grant_lines(order, now)


# No savepoint of its own: its caller (the webhook) rolls back to its own on an error.
@transaction.atomic(savepoint=False)
def order_paid(
    *,
    order: Order,
    provider: str,
    provider_payment_id: str,
    amount: int | None,
    currency: str,
    locked: bool = False,
) -> bool:
    """Record the provider's payment and fulfil the order once. Returns False when it
    had been fulfilled already. A paid event wins over an earlier "expired" or "failed"
    (the money was taken, so the buyer gets what they paid for). ``locked``: the caller
    already holds the order's row lock and passes the row it read."""
    if not locked:
        order = (
            Order.objects.select_for_update(of=("self",)).select_related("user").get(pk=order.pk)
        )
    if order.status == OrderStatus.PAID:
        return False
    _check_amount(order, amount=amount, currency=currency)
    if order.status in (OrderStatus.EXPIRED, OrderStatus.FAILED) and order.discount_id:
        # The coupon use was given back when it failed; take it again if one is left
        # (the money was taken: the buyer keeps the price they paid either way).
        Discount.objects.filter(pk=order.discount_id).filter(
            Q(max_redemptions__isnull=True) | Q(times_redeemed__lt=F("max_redemptions"))
        ).update(times_redeemed=F("times_redeemed") + 1)
    payment_id = provider_payment_id or f"{provider}:order:{order.pk}"
    payment = Payment(
        provider=provider,
        provider_payment_id=payment_id,
        order=order,
        user_id=order.user_id,
        amount=order.total,
        currency=order.currency,
    )
    if not insert_unless_exists(payment):
        # The provider reported this payment before (for this order, under the lock).
        payment = Payment.objects.get(provider=provider, provider_payment_id=payment_id)
    _complete(order, payment=payment)
    return True


@transaction.atomic
def order_paid_from_balance(*, order: Order) -> Order:
    """Pay a pending order from the user's balance: the spending and the grants happen
    together or not at all."""
    order = Order.objects.select_for_update(of=("self",)).select_related("user").get(pk=order.pk)
    if order.status == OrderStatus.PAID:
        return order
    if order.status != OrderStatus.PENDING:
        raise ApplicationError(_("This order is no longer awaiting payment."))
    if order.purpose == OrderPurpose.TOPUP:
        raise ApplicationError(_("A top-up cannot be paid from the balance."))
    if order.total > 0:
        ledger_post(
            user_id=order.user_id,
            currency=order.currency,
            kind=EntryKind.SPENDING,
            amount=-order.total,
            reference=f"order:{order.pk}:spend",
            description=_("Order #%(id)s") % {"id": order.pk},
            order=order,
        )
    order.provider = "balance"
    order.save(update_fields=["provider", "updated_at"])
    _complete(order, payment=None)
    return order


@transaction.atomic
def order_free(*, order: Order) -> Order:
    """An order whose total is zero (a 100% coupon) is fulfilled at once."""
    order = Order.objects.select_for_update(of=("self",)).select_related("user").get(pk=order.pk)
    if order.total != 0:
        raise ApplicationError(_("This order is not free."))
    if order.status != OrderStatus.PAID:
        _complete(order, payment=None)
    return order


@transaction.atomic
def order_ended_unpaid(*, order: Order, status: OrderStatus, reason: str = "") -> bool:
    """Mark a pending order failed or expired and give its coupon use back. Does
    nothing to an order that is paid or already ended."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.PENDING:
        return False
    order.status = status
    order.failure_reason = reason[:300]
    order.save(update_fields=["status", "failure_reason", "updated_at"])
    discount_release(order)
    return True


@transaction.atomic
def order_buy_with_balance(*, user, item_ids: list[int], currency: str, coupon: str = "") -> Order:
    """Place an order and pay it from the balance in one step: without the money,
    nothing is written (no order, no coupon use)."""
    order = order_create(
        user=user, item_ids=item_ids, currency=currency, coupon=coupon, provider="balance"
    )
    return order_paid_from_balance(order=order)
