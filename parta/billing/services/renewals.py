"""Plans that renew themselves: asked for at checkout, on once the first payment names
the card the provider saved, charged a day before each period ends.

A charge is one order per (renewal, period) (a unique constraint), paid through the
provider's charge of the saved method and fulfilled like any paid order, so the new
period extends the running one. The renewal's row is locked while it is charged (other
runs skip it), and the provider's idempotency key is made from the renewal, the period
and the attempt as committed: a run that dies after the provider took the money asks
again with the same key and gets the same payment back. A provider that charges in two
steps (T-Bank) has its payment's id committed before the charge is sent, and the next
run settles that payment.

Locks are always taken in one order: the Order, then the AutoRenewal, then the
RenewalCharge (a notification paying a charge's order holds the order first; a retried
charge takes its order's lock first, without waiting). See _renew_once.

A declined charge is tried again three times over a week (an email each time); then
the renewal ends and the plan ends as usual. A refunded plan, a card gone from the
provider or a plan no longer on sale end it at once, with no charge. The outcome is
kept on the renewal (and the charge) for staff.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.access.models import AccessGrant
from parta.access.selectors import is_staff_like
from parta.accounts.models import User
from parta.audit.services import record
from parta.billing.models import (
    AutoRenewal,
    Item,
    ItemKind,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundStatus,
    RenewalCharge,
    RenewalChargeStatus,
    RenewalStatus,
    TaxRate,
)
from parta.billing.notices import renewal_ended_notify, renewal_failed_notify
from parta.billing.providers.base import ChargeRequest, ChargeResult, ProviderError
from parta.billing.providers.registry import UnknownProvider, get_provider
from parta.billing.receipts import order_receipt
from parta.billing.services.fulfilment import order_paid
from parta.billing.services.orders import order_create
from parta.billing.totals import TaxSpec, compute_totals
from parta.common.db import insert_unless_exists
from parta.common.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed

# The next period is charged this long before the running one ends.
CHARGE_BEFORE = timedelta(days=1)
# After a decline: the waits before each of the three tries again (a week in all).
RETRY_AFTER = (timedelta(days=2), timedelta(days=2), timedelta(days=3))
# The provider could not be reached (or has not decided yet): asked again this much later,
# with the same idempotency key, counting no failure.
UNREACHABLE_RETRY = timedelta(hours=1)
BATCH = 200


def renewal_supported(*, provider: str) -> bool:
    try:
        return get_provider(provider).recurring
    except UnknownProvider:
        return False


def renewal_request(*, order: Order) -> AutoRenewal:
    """Ask for auto-renewal of the plan an order buys (at checkout, with the order).
    The provider must save cards; the order must be one plan."""
    lines = list(order.lines.select_related("item"))
    if len(lines) != 1 or lines[0].item.kind != ItemKind.PLAN:
        raise ValidationFailed({"auto_renew": [_("Only a plan can renew automatically.")]})
    if not renewal_supported(provider=order.provider):
        raise ValidationFailed(
            {
                "auto_renew": [
                    _("Auto-renewal is not available for payments in %(code)s.")
                    % {"code": order.currency}
                ]
            }
        )
    return AutoRenewal.objects.create(
        user_id=order.user_id,
        item=lines[0].item,
        currency=order.currency,
        provider=order.provider,
        first_order=order,
    )


def _plan_end(renewal: AutoRenewal) -> datetime | None:
    """When the buyer's time on the plan ends: the latest end of the grants its paid
    purchases gave (a pause moves it later; a period bought ahead by hand counts too;
    refunded ones do not)."""
    lines = OrderLine.objects.filter(
        order__user_id=renewal.user_id, item_id=renewal.item_id, order__status=OrderStatus.PAID
    ).values_list("pk", flat=True)
    bought = Q()
    for line_id in lines:
        bought |= Q(reference__startswith=f"order-line:{line_id}:")
    if not bought:
        return None
    return AccessGrant.objects.filter(bought, user_id=renewal.user_id, is_active=True).aggregate(
        end=Max("available_until")
    )["end"]


def renewals_order_paid(*, order: Order, saved_method_id: str = "") -> None:
    """Called in the transaction that fulfils a paid order (a provider's notification):
    the first payment of a renewal turns it on with the card the provider saved (none
    saved: it ends); a renewal's charge confirmed later moves it to its next period."""
    renewal = (
        AutoRenewal.objects.select_for_update()
        .filter(first_order=order, status=RenewalStatus.PENDING)
        .first()
    )
    if renewal is not None:
        _activate(renewal, order, saved_method_id)
        return
    # The caller holds the order's lock; the renewal's, then its charge's, come after it
    # (the lock order of _renew_once).
    renewal = (
        AutoRenewal.objects.select_for_update()
        .filter(
            pk__in=RenewalCharge.objects.filter(order=order)
            .exclude(status=RenewalChargeStatus.SUCCEEDED)
            .values("renewal_id")
        )
        .first()
    )
    if renewal is None:
        return
    charge = RenewalCharge.objects.select_for_update().get(renewal=renewal, order=order)
    if charge.status != RenewalChargeStatus.SUCCEEDED:
        _advance(renewal, charge, order, payment_id=charge.provider_payment_id)


def _activate(renewal: AutoRenewal, order: Order, saved_method_id: str) -> None:
    now = timezone.now()
    if not saved_method_id or len(saved_method_id) > 255:
        renewal.status = RenewalStatus.ENDED
        renewal.ended_at = now
        renewal.outcome = "The provider saved no payment method with the first payment."
        renewal.save(update_fields=["status", "ended_at", "outcome", "updated_at"])
        return
    # A new card for the same plan replaces the renewal that was on.
    AutoRenewal.objects.filter(
        user_id=renewal.user_id, item_id=renewal.item_id, status=RenewalStatus.ACTIVE
    ).update(
        status=RenewalStatus.ENDED,
        ended_at=now,
        outcome="Replaced by a newer auto-renewal of the plan.",
        updated_at=now,
    )
    renewal.current_order = order
    end = _plan_end(renewal)
    renewal.status = RenewalStatus.ACTIVE
    renewal.saved_method_id = saved_method_id
    renewal.current_order = order
    renewal.next_charge_at = (end - CHARGE_BEFORE) if end else now
    renewal.outcome = "On: the card is saved with the first payment."
    renewal.save()


def _advance(renewal: AutoRenewal, charge: RenewalCharge, order: Order, *, payment_id: str):
    end = _plan_end(renewal)
    charge.status = RenewalChargeStatus.SUCCEEDED
    charge.provider_payment_id = payment_id
    charge.failure_reason = ""
    charge.save()
    renewal.period = charge.period
    renewal.current_order = order
    renewal.failures = 0
    renewal.next_charge_at = (end - CHARGE_BEFORE) if end else None
    renewal.outcome = f"Period {charge.period} charged (order #{order.pk})."
    if renewal.status == RenewalStatus.ACTIVE and renewal.next_charge_at is None:
        renewal.status = RenewalStatus.ENDED
        renewal.ended_at = timezone.now()
    renewal.save()


@transaction.atomic
def renewal_cancel(*, renewal: AutoRenewal, by: User) -> AutoRenewal:
    """Switch auto-renewal off: nothing is charged again. The period paid runs to its end.
    The buyer turns off their own; staff anyone's (for a client, audited). Moderators see
    a client's renewals but do not act on their money."""
    renewal = AutoRenewal.objects.select_for_update().get(pk=renewal.pk)
    for_client = renewal.user_id != by.pk
    if for_client and not is_staff_like(by):
        raise NotFound(_("There is no such auto-renewal."))
    if for_client and not by.is_school_staff:
        raise PermissionDenied(_("Only staff turn off a client's auto-renewal."))
    if renewal.status != RenewalStatus.ACTIVE:
        raise ApplicationError(_("Auto-renewal of this plan is already off."))
    renewal.status = RenewalStatus.CANCELLED
    renewal.ended_at = timezone.now()
    renewal.outcome = (
        f"Cancelled by staff (user #{by.pk})." if for_client else "Cancelled by the buyer."
    )
    renewal.save(update_fields=["status", "ended_at", "outcome", "updated_at"])
    if for_client:
        # A staff action on a client's money: audited in the same transaction.
        record(
            actor=by,
            action="billing.renewal_cancel",
            obj=renewal,
            subject=renewal.user,
            before={"status": RenewalStatus.ACTIVE.value},
            after={"status": renewal.status},
        )
    return renewal


def renewal_amount(*, item: Item, currency: str, taxes: list[TaxRate] | None = None) -> int:
    """What the next charge takes: the plan's price now, with the active taxes (no coupon)."""
    price = next((p for p in item.prices.all() if p.currency == currency), None)
    if price is None:
        return 0
    if taxes is None:
        taxes = list(TaxRate.objects.filter(is_active=True).order_by("id"))
    totals = compute_totals(
        [price.amount], taxes=[TaxSpec(t.name, t.rate_bp, t.inclusive) for t in taxes]
    )
    return totals.total


def _end(renewal: AutoRenewal, *, reason: str, outcome: str, now: datetime) -> None:
    renewal.status = RenewalStatus.ENDED
    renewal.ended_at = now
    renewal.next_charge_at = None
    renewal.outcome = outcome[:300]
    renewal.save()
    renewal_ended_notify(renewal=renewal, reason=reason)


def _refunded(renewal: AutoRenewal) -> bool:
    return (
        Refund.objects.filter(order_line__order_id=renewal.current_order_id)
        .exclude(status=RefundStatus.FAILED)
        .exists()
    )


def renewals_charge(*, now: datetime | None = None) -> int:
    """Charge every renewal that is due (the beat job); returns how many were charged.
    Safe to run at any time, any number of times, in several processes at once."""
    now = now or timezone.now()
    due = list(
        AutoRenewal.objects.filter(status=RenewalStatus.ACTIVE, next_charge_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(1 for pk in due if _renew(pk, now))


# _renew_once's answer when it made a two-step provider's payment and committed its id:
# the charge itself follows in a transaction of its own.
_STARTED = "started"


def _renew(renewal_id: int, now: datetime) -> bool:
    """Charge one renewal's next period. A provider that charges in two steps (T-Bank:
    Init, then Charge) has its payment's id committed on the charge first, and the charge
    sent in a second transaction: a run that dies in between settles that same payment
    next time (asking the provider what became of it), never a new one."""
    outcome = _renew_once(renewal_id, now)
    if outcome == _STARTED:
        outcome = _renew_once(renewal_id, now)
    return outcome is True


def _renew_once(renewal_id: int, now: datetime) -> bool | str:
    """One transaction of a renewal's charge.

    Lock order, the same as a provider's notification that pays the charge's order
    (webhooks -> order_paid -> renewals_order_paid): the Order row first, then the
    AutoRenewal, then the RenewalCharge. A retried charge knows its order before it locks
    anything and takes the order's lock without waiting (skip_locked): if a notification
    (or another run) holds it, this run leaves the renewal to it. So a retry and the
    notification of the same payment never wait for each other in a cycle, and whichever
    comes second finds the order paid and adds nothing. A first attempt makes its order in
    this transaction, so nobody else can hold that one."""
    with transaction.atomic(durable=True):
        retried_order_id = (
            RenewalCharge.objects.filter(renewal_id=renewal_id, period=F("renewal__period") + 1)
            .values_list("order_id", flat=True)
            .first()
        )
        locked_order = None
        if retried_order_id is not None:
            locked_order = (
                Order.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("user")
                .filter(pk=retried_order_id)
                .first()
            )
            if locked_order is None:
                return False  # being paid by a notification, or charged by another run
        renewal = (
            AutoRenewal.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user", "item", "current_order")
            .filter(pk=renewal_id)
            .first()
        )
        # Another run holds it, or it changed since it was listed.
        if renewal is None or renewal.status != RenewalStatus.ACTIVE:
            return False
        if renewal.next_charge_at is None or renewal.next_charge_at > now:
            return False
        if _refunded(renewal):
            _end(
                renewal,
                reason="refunded",
                outcome="Not charged: the plan's period was refunded.",
                now=now,
            )
            return False
        end = _plan_end(renewal)
        if renewal.failures == 0 and end is not None and end - CHARGE_BEFORE > now:
            # A pause moved the period's end: the charge moves with it.
            renewal.next_charge_at = end - CHARGE_BEFORE
            renewal.save(update_fields=["next_charge_at", "updated_at"])
            return False
        period = renewal.period + 1
        charge = RenewalCharge(renewal=renewal, period=period)
        if not insert_unless_exists(charge):
            charge = RenewalCharge.objects.select_for_update().get(renewal=renewal, period=period)
            if charge.status == RenewalChargeStatus.SUCCEEDED:
                return False
            if charge.order_id is not None and charge.order_id != retried_order_id:
                return False  # the renewal moved on since it was read: the next run sees it
        if charge.order_id is None:
            try:
                order = order_create(
                    user=renewal.user,
                    item_ids=[renewal.item_id],
                    currency=renewal.currency,
                    provider=renewal.provider,
                )
            except ApplicationError as exc:
                charge.status = RenewalChargeStatus.FAILED
                charge.failure_reason = exc.message[:300]
                charge.save()
                _end(
                    renewal,
                    reason="not_on_sale",
                    outcome=f"Not charged: the plan cannot be bought now ({exc.message}).",
                    now=now,
                )
                return False
            charge.order = order
            # Made in this transaction: locked here for the order_paid below.
            order = (
                Order.objects.select_for_update(of=("self",))
                .select_related("user")
                .get(pk=charge.order_id)
            )
        else:
            order = locked_order
        if charge.status != RenewalChargeStatus.PENDING:
            # A new attempt after a decline: a new key, and a new payment at the provider.
            charge.attempts += 1
            charge.provider_payment_id = ""
        elif charge.attempts == 0:
            charge.attempts = 1
        charge.status = RenewalChargeStatus.PENDING
        charge.save()
        provider = _provider(renewal)
        if (
            provider is not None
            and provider.charges_in_two_steps
            and not charge.provider_payment_id
        ):
            try:
                payment_id = provider.charge_start(_charge_request(renewal, charge, order))
            except ProviderError as exc:
                if exc.retryable:
                    _unreachable(renewal, period, now)
                    return False
                result = ChargeResult(payment_id="", succeeded=False, failure_reason=exc.message)
                _declined(renewal, charge, order, result, now)
                return False
            # Committed before the charge is sent (see _renew).
            charge.provider_payment_id = payment_id[:255]
            charge.save(update_fields=["provider_payment_id", "updated_at"])
            return _STARTED
        result = _charge(renewal, charge, order)
        if result is None:
            # Unreachable: the same attempt (and key) later, no failure counted.
            _unreachable(renewal, period, now)
            return False
        if result.succeeded:
            order_paid(
                order=order,
                locked=True,
                provider=renewal.provider,
                provider_payment_id=result.payment_id,
                amount=order.total,
                currency=order.currency,
            )
            _advance(renewal, charge, order, payment_id=result.payment_id)
            return True
        if result.pending:
            charge.provider_payment_id = result.payment_id
            charge.save(update_fields=["provider_payment_id", "updated_at"])
            renewal.next_charge_at = now + UNREACHABLE_RETRY
            renewal.outcome = f"Period {period}: the provider has not decided yet."
            renewal.save(update_fields=["next_charge_at", "outcome", "updated_at"])
            return False
        _declined(renewal, charge, order, result, now)
        return False


def _unreachable(renewal: AutoRenewal, period: int, now: datetime) -> None:
    renewal.next_charge_at = now + UNREACHABLE_RETRY
    renewal.outcome = f"Period {period}: the provider could not be reached."
    renewal.save(update_fields=["next_charge_at", "outcome", "updated_at"])


def _provider(renewal: AutoRenewal):
    try:
        return get_provider(renewal.provider)
    except UnknownProvider:
        return None


def _charge_request(renewal: AutoRenewal, charge: RenewalCharge, order: Order) -> ChargeRequest:
    return ChargeRequest(
        order_id=order.pk,
        currency=order.currency,
        amount=order.total,
        saved_method_id=renewal.saved_method_id,
        idempotency_key=(
            f"parta-renewal-{renewal.pk}-period-{charge.period}-try-{charge.attempts}"
        ),
        description=f"Parta order #{order.pk}",
        customer_email=order.user.email,
        receipt=order_receipt(order),
        payment_id=charge.provider_payment_id,
    )


def _charge(renewal: AutoRenewal, charge: RenewalCharge, order: Order) -> ChargeResult | None:
    request = _charge_request(renewal, charge, order)
    try:
        return get_provider(renewal.provider).charge(request)
    except UnknownProvider:
        return ChargeResult(
            payment_id="",
            succeeded=False,
            failure_reason=f"The provider {renewal.provider} is switched off.",
            method_gone=True,
        )
    except ProviderError as exc:
        if exc.retryable:
            return None
        return ChargeResult(payment_id="", succeeded=False, failure_reason=exc.message)


def _declined(renewal, charge, order, result: ChargeResult, now: datetime) -> None:
    reason = (result.failure_reason or "declined")[:300]
    charge.status = RenewalChargeStatus.FAILED
    charge.failure_reason = reason
    charge.provider_payment_id = result.payment_id
    charge.save()
    if order.status == OrderStatus.PENDING:
        order.status = OrderStatus.FAILED
    order.failure_reason = reason
    order.save(update_fields=["status", "failure_reason", "updated_at"])
    if result.method_gone:
        _end(
            renewal,
            reason="method_gone",
            outcome=f"Not charged: the saved payment method is gone ({reason}).",
            now=now,
        )
        return
    renewal.failures += 1
    last = renewal.failures > len(RETRY_AFTER)
    if last:
        renewal.status = RenewalStatus.ENDED
        renewal.ended_at = now
        renewal.next_charge_at = None
        renewal.outcome = f"Ended after {renewal.failures} declined charges ({reason})."
    else:
        renewal.next_charge_at = now + RETRY_AFTER[renewal.failures - 1]
        renewal.outcome = (
            f"Charge {renewal.failures} of period {charge.period} declined ({reason})."
        )
    renewal.save()
    renewal_failed_notify(renewal=renewal, charge=charge, amount=order.total, last=last)


def renewal_reminders_notify(*, now: datetime | None = None) -> int:
    """Tell buyers whose plan is charged within three days: once per renewal and period
    (a retry after a decline is told by the decline's own message)."""
    from parta.billing.notices import RENEWAL_NOTICE, renewal_upcoming_notify

    now = now or timezone.now()
    renewals = (
        AutoRenewal.objects.filter(
            status=RenewalStatus.ACTIVE,
            failures=0,
            next_charge_at__gt=now,
            next_charge_at__lte=now + RENEWAL_NOTICE,
        )
        .select_related("user", "item")
        .prefetch_related("item__prices")
        .order_by("pk")
    )
    taxes = list(TaxRate.objects.filter(is_active=True).order_by("id"))
    told = 0
    for renewal in renewals.iterator(chunk_size=BATCH):
        with transaction.atomic():
            renewal_upcoming_notify(
                renewal=renewal,
                amount=renewal_amount(item=renewal.item, currency=renewal.currency, taxes=taxes),
            )
        told += 1
    return told
