"""Placing orders and sending buyers to checkout."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.accounts.models import User
from parta.billing.models import (
    AutoRenewal,
    Discount,
    DiscountKind,
    Item,
    ItemKind,
    ItemPrice,
    Order,
    OrderLine,
    OrderPurpose,
    OrderStatus,
    OrderTax,
    RenewalStatus,
    TaxRate,
)
from parta.billing.providers.base import (
    CheckoutLine,
    CheckoutRequest,
    CheckoutSession,
    DiscountSpec,
    ProviderError,
    TaxLine,
)
from parta.billing.providers.registry import get_provider, provider_name_for
from parta.billing.receipts import order_receipt
from parta.billing.totals import TaxSpec, compute_totals
from parta.common.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from parta.common.money import CURRENCY_EXPONENT, Money, format_money

MAX_TOPUP_MAJOR_UNITS = 1_000_000


def _currency(currency: str) -> str:
    code = (currency or "").upper()
    if code not in CURRENCY_EXPONENT or code not in settings.PARTA_CURRENCIES:
        raise ValidationFailed(
            {"currency": [_("Payments in %(code)s are not accepted.") % {"code": code or "?"}]}
        )
    return code


def _items(item_ids: list[int], currency: str) -> list[tuple[Item, ItemPrice]]:
    if not item_ids:
        raise ValidationFailed({"items": [_("Choose at least one item.")]})
    if len(set(item_ids)) != len(item_ids):
        raise ValidationFailed({"items": [_("Each item can be in an order once.")]})
    items = {
        item.id: item
        for item in Item.objects.select_related("course", "plan")
        .prefetch_related("prices")
        .filter(id__in=item_ids)
    }
    result = []
    for item_id in item_ids:
        item = items.get(item_id)
        if item is None or not item.is_active:
            raise NotFound(_("This item is not on sale."))
        if item.kind == ItemKind.COURSE and not item.course.is_published:
            raise NotFound(_("This course is not on sale."))
        if item.kind == ItemKind.PLAN and not item.plan.is_published:
            raise NotFound(_("This plan is not on sale."))
        price = next((p for p in item.prices.all() if p.currency == currency), None)
        if price is None:
            raise ValidationFailed(
                {
                    "currency": [
                        _("“%(item)s” is not sold in %(code)s.")
                        % {"item": item.title, "code": currency}
                    ]
                }
            )
        result.append((item, price))
    return result


def _redeem(code: str, currency: str, user: User) -> Discount | None:
    """Find the coupon and count this use under its row lock: a coupon with N uses
    left is redeemed at most N times, and at most ``max_per_user`` times by one buyer
    (orders that ended unpaid do not count), however many orders are placed at once."""
    code = (code or "").strip().upper()
    if not code:
        return None
    discount = Discount.objects.select_for_update().filter(code=code, is_active=True).first()
    now = timezone.now()
    if discount is None:
        raise ValidationFailed({"coupon": [_("There is no such coupon.")]})
    if (discount.valid_from and discount.valid_from > now) or (
        discount.valid_until and discount.valid_until <= now
    ):
        raise ValidationFailed({"coupon": [_("This coupon is not valid now.")]})
    if discount.kind == DiscountKind.AMOUNT and discount.currency != currency:
        raise ValidationFailed(
            {
                "coupon": [
                    _("This coupon is for payments in %(code)s.") % {"code": discount.currency}
                ]
            }
        )
    if discount.max_per_user is not None:
        used = Order.objects.filter(
            user=user, discount=discount, status__in=[OrderStatus.PENDING, OrderStatus.PAID]
        ).count()
        if used >= discount.max_per_user:
            raise ValidationFailed({"coupon": [_("You have already used this coupon.")]})
    redeemed = (
        Discount.objects.filter(pk=discount.pk)
        .filter(Q(max_redemptions__isnull=True) | Q(times_redeemed__lt=F("max_redemptions")))
        .update(times_redeemed=F("times_redeemed") + 1)
    )
    if not redeemed:
        raise ValidationFailed({"coupon": [_("This coupon has been used up.")]})
    return discount


def discount_release(order: Order) -> None:
    """Give the coupon use back when an order ends unpaid."""
    if order.discount_id:
        Discount.objects.filter(pk=order.discount_id, times_redeemed__gt=0).update(
            times_redeemed=F("times_redeemed") - 1
        )


@transaction.atomic
def order_create(
    *, user: User, item_ids: list[int], currency: str, coupon: str = "", provider: str = ""
) -> Order:
    """An order for ``item_ids`` in one currency, with the coupon and the active taxes
    applied (parta.billing.totals). Nothing is written if anything is wrong."""
    currency = _currency(currency)
    chosen = _items(item_ids, currency)
    discount = _redeem(coupon, currency, user)
    taxes = list(TaxRate.objects.filter(is_active=True).order_by("id"))
    totals = compute_totals(
        [price.amount for _item, price in chosen],
        discount_percent=discount.percent
        if discount and discount.kind == DiscountKind.PERCENT
        else None,
        discount_amount=discount.amount
        if discount and discount.kind == DiscountKind.AMOUNT
        else None,
        taxes=[TaxSpec(t.name, t.rate_bp, t.inclusive) for t in taxes],
    )
    order = Order.objects.create(
        user=user,
        currency=currency,
        subtotal=totals.subtotal,
        discount_total=totals.discount,
        tax_total=totals.tax_added,
        tax_included=totals.tax_included,
        total=totals.total,
        discount=discount,
        provider=provider or provider_name_for(currency),
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            item=item,
            item_price=price,
            title=item.title,
            unit_amount=line.amount,
            discount_amount=line.discount,
            tax_amount=line.tax_added,
            tax_included=line.tax_included,
            total=line.total,
            per_day_amount=price.per_day_amount,
            duration_days=item.plan.duration_days if item.kind == ItemKind.PLAN else None,
        )
        for (item, price), line in zip(chosen, totals.lines, strict=True)
    )
    OrderTax.objects.bulk_create(
        OrderTax(
            order=order,
            tax_rate=rate,
            name=rate.name,
            rate_bp=rate.rate_bp,
            inclusive=rate.inclusive,
            amount=amount,
        )
        for rate, (_spec, amount) in zip(taxes, totals.taxes, strict=True)
    )
    return order


@transaction.atomic
def topup_create(*, user: User, amount: int, currency: str, provider: str = "") -> Order:
    """An order that adds ``amount`` (minor units) to the user's balance once paid."""
    currency = _currency(currency)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed({"amount": [_("Top up by a positive amount.")]})
    most = MAX_TOPUP_MAJOR_UNITS * 10 ** CURRENCY_EXPONENT[currency]
    if amount > most:
        raise ValidationFailed(
            {
                "amount": [
                    _("One top-up is at most %(most)s.") % {"most": format_money(most, currency)}
                ]
            }
        )
    return Order.objects.create(
        purpose=OrderPurpose.TOPUP,
        user=user,
        currency=currency,
        subtotal=amount,
        total=amount,
        provider=provider or provider_name_for(currency),
    )


def _checkout_request(order: Order, base_url: str) -> CheckoutRequest:
    lines = list(order.lines.all())
    order_url = reverse("billing:order", args=[order.pk])
    discount = None
    if order.discount_id:
        d = order.discount
        discount = DiscountSpec(code=d.code, percent=d.percent, amount=d.amount)
    if order.purpose == OrderPurpose.TOPUP:
        checkout_lines = [CheckoutLine(title=_("Balance top-up"), unit_amount=order.total)]
    else:
        checkout_lines = [
            CheckoutLine(
                title=line.title, unit_amount=line.unit_amount, item_price_id=line.item_price_id
            )
            for line in lines
        ]
    return CheckoutRequest(
        order_id=order.pk,
        currency=order.currency,
        lines=checkout_lines,
        total=order.total,
        success_url=f"{base_url}{order_url}?paid=1",
        cancel_url=f"{base_url}{order_url}?cancelled=1",
        customer_email=order.user.email,
        discount=discount,
        taxes=[TaxLine(t.name, t.rate_bp, t.inclusive) for t in order.taxes.all()],
        description=f"Parta order #{order.pk}",
        receipt=order_receipt(order),
        previous_session_id=order.checkout_id,
        # Bought with auto-renewal: the provider keeps the card for the next periods.
        save_payment_method=AutoRenewal.objects.filter(
            first_order=order, status=RenewalStatus.PENDING
        ).exists(),
    )


@dataclass(frozen=True)
class Checkout:
    order: Order
    session: CheckoutSession
    reused: bool


def checkout_start(*, order: Order, base_url: str = "") -> Checkout:
    """Send the buyer to the order's open checkout, or open one. An open session is
    reused until the provider's expiry; a new one is made only after that. An order
    that costs nothing (a 100% coupon) needs no checkout: it is fulfilled at once and
    the buyer goes to the order page."""
    if order.total == 0 and order.purpose == OrderPurpose.PURCHASE:
        from parta.billing.services.fulfilment import order_free  # (it imports this module)

        paid = order_free(order=order)
        url = reverse("billing:order", args=[paid.pk])
        return Checkout(
            order=paid,
            session=CheckoutSession(session_id="", url=url, expires_at=timezone.now()),
            reused=False,
        )
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("discount", "user")
            .get(pk=order.pk)
        )
        if order.status != OrderStatus.PENDING:
            raise Conflict(_("This order is no longer awaiting payment."))
        if order.provider == "balance":
            raise ApplicationError(_("This order is paid from the balance."))
        now = timezone.now()
        if order.checkout_id and order.checkout_expires_at and order.checkout_expires_at > now:
            return Checkout(
                order=order,
                session=CheckoutSession(
                    session_id=order.checkout_id,
                    url=order.checkout_url,
                    expires_at=order.checkout_expires_at,
                ),
                reused=True,
            )
        provider = get_provider(order.provider)
        try:
            session = provider.create_checkout(_checkout_request(order, base_url))
        except ProviderError as exc:
            raise ApplicationError(exc.message) from exc
        order.checkout_id = session.session_id
        order.checkout_url = session.url
        order.checkout_expires_at = session.expires_at
        order.save(
            update_fields=["checkout_id", "checkout_url", "checkout_expires_at", "updated_at"]
        )
        return Checkout(order=order, session=session, reused=False)


def buy(
    *,
    user: User,
    item_id: int,
    currency: str = "",
    coupon: str = "",
    base_url: str = "",
    auto_renew: bool = False,
) -> Checkout:
    """`/buy/<item>/`: the checkout of the buyer's open order for this item, else of a
    new order. Without a coupon any open order for the item is reused (its checkout
    too while open), so asking again takes nothing; with one, an open order with that
    coupon is reused, else a new order takes a use of it. ``auto_renew``: a plan that
    renews itself (parta.billing.services.renewals), so the checkout saves the card;
    only an open order asked for the same way is reused."""
    from parta.billing.services.renewals import renewal_request  # (it imports this module)

    currency = _currency(currency or settings.PARTA_DEFAULT_CURRENCY)
    code = (coupon or "").strip().upper()
    provider = get_provider(provider_name_for(currency)).name
    open_orders = Order.objects.filter(
        user=user,
        purpose=OrderPurpose.PURCHASE,
        status=OrderStatus.PENDING,
        currency=currency,
        provider=provider,
        lines__item_id=item_id,
        auto_renewal__isnull=not auto_renew,
    ).order_by("-created_at", "-id")
    if code:
        open_orders = open_orders.filter(discount__code=code)
    for order in open_orders.prefetch_related("lines")[:5]:
        if len(order.lines.all()) == 1:
            return checkout_start(order=order, base_url=base_url)
    with transaction.atomic():
        order = order_create(
            user=user, item_ids=[item_id], currency=currency, coupon=code, provider=provider
        )
        if auto_renew and order.total > 0:
            renewal_request(order=order)
    return checkout_start(order=order, base_url=base_url)


def money_of(order: Order) -> Money:
    return Money(order.total, order.currency)
