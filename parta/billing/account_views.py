"""The buyer's own pages: purchases (refunds, freezes) and the balance (history,
top-ups, top-up refunds)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parta.access.models import AccessFreeze, AccessGrant
from parta.billing import selectors
from parta.billing.models import (
    AutoRenewal,
    EntryKind,
    LedgerEntry,
    Refund,
    RefundDestination,
    RefundStatus,
)
from parta.billing.services.freezes import purchase_freeze as freeze_purchase
from parta.billing.services.freezes import purchase_unfreeze as unfreeze_purchase
from parta.billing.services.orders import checkout_start, topup_create
from parta.billing.services.refunds import (
    AlreadyRefunded,
    line_grants_for,
    line_id_of,
    refund_explanation,
    refund_grant,
    refund_quote,
    refund_topup,
)
from parta.billing.services.renewals import renewal_cancel as cancel_renewal
from parta.billing.totals import round_half_up
from parta.catalog.forms import parse_major_units
from parta.common.errors import ApplicationError
from parta.common.money import Money


def _tell_refund_outcome(request, refund: Refund, success: str) -> None:
    if refund.status == RefundStatus.SUCCEEDED:
        messages.success(request, success)
    elif refund.status == RefundStatus.FAILED:
        messages.error(
            request,
            _("The refund did not go through: %(reason)s") % {"reason": refund.failure_reason},
        )
    else:
        messages.info(request, _("The refund is on its way."))


def _own_grant(request, pk: int) -> AccessGrant:
    return get_object_or_404(AccessGrant, pk=pk, user=request.user)


@login_required
@require_GET
def purchases(request):
    return render(
        request, "billing/purchases.html", {"rows": selectors.purchases_for(user=request.user)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def purchase_refund(request, pk: int):
    """GET: what a refund would return, how it is worked out and where the money
    goes (the buyer's choice); POST: the refund."""
    grant = _own_grant(request, pk)
    if request.method == "POST":
        try:
            refund = refund_grant(
                grant=grant,
                requested_by=request.user,
                to_balance=request.POST.get("to") == "balance",
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            amount = Money(refund.amount, refund.currency).format()
            success = (
                _("Refunded %(amount)s to your balance.")
                if refund.destination == RefundDestination.BALANCE
                else _("Refunded %(amount)s to your card.")
            )
            _tell_refund_outcome(request, refund, success % {"amount": amount})
        return redirect("billing:purchases")
    existing = (
        Refund.objects.filter(order_line_id=line_id_of(grant) or 0)
        .exclude(status=RefundStatus.FAILED)
        .first()
    )
    try:
        if existing is not None:
            raise AlreadyRefunded(existing)
        quote = refund_quote(grant=grant, explain=True)
        if not grant.is_active:
            raise ApplicationError(_("This access has ended: there is nothing to refund."))
        if quote.amount <= 0:
            raise ApplicationError(
                _("All the paid days are used: there is nothing left to refund.")
            )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:purchases")
    courses = [g.course for g in line_grants_for(grant)]
    return render(
        request,
        "billing/refund_confirm.html",
        {
            "grant": grant,
            "quote": quote,
            "courses": courses,
            "explanation": refund_explanation(quote),
            "per_day_paid": round_half_up(quote.paid, quote.days_total),
            "default_to": "card" if quote.to_card_possible else "balance",
        },
    )


@login_required
@require_POST
def purchase_freeze(request, pk: int):
    grant = _own_grant(request, pk)
    try:
        days = int(request.POST.get("days", ""))
    except ValueError:
        messages.error(request, _("Enter the number of days."))
        return redirect("billing:purchases")
    try:
        freeze_purchase(grant=grant, days=days, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Access is paused; its end moved later by %(days)d day(s).") % {"days": days},
        )
    return redirect("billing:purchases")


@login_required
@require_POST
def renewal_cancel(request, pk: int):
    """Auto-renewal off in one click: the plan is never charged again."""
    renewal = get_object_or_404(
        AutoRenewal.objects.select_related("item"), pk=pk, user=request.user
    )
    try:
        cancel_renewal(renewal=renewal, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Auto-renewal of “%(title)s” is off: nothing more will be charged.")
            % {"title": renewal.item.title},
        )
    return redirect("billing:purchases")


@login_required
@require_POST
def purchase_unfreeze(request, pk: int):
    freeze = get_object_or_404(AccessFreeze, pk=pk, grant__user=request.user)
    try:
        unfreeze_purchase(freeze=freeze, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Access is back; the unused days were returned."))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)  # the course page's Resume comes back to the course
    return redirect("billing:purchases")


@login_required
@require_GET
def balance(request):
    topups_refundable = {
        entry.pk
        for entry in LedgerEntry.objects.filter(
            account__user=request.user, kind=EntryKind.TOPUP, order__purpose="topup"
        ).select_related("payment")
        if entry.payment and entry.payment.refunded_amount < entry.payment.amount
    }
    return render(
        request,
        "billing/balance.html",
        {
            "accounts": selectors.balances_for(user=request.user),
            "history": selectors.history_for(user=request.user),
            "currencies": settings.PARTA_CURRENCIES,
            "default_currency": settings.PARTA_DEFAULT_CURRENCY,
            "refundable": topups_refundable,
        },
    )


def _amount_from(request, currency: str) -> int:
    try:
        return parse_major_units(request.POST.get("amount", ""), currency)
    except (ValidationError, KeyError) as exc:
        raise ApplicationError(
            _("Enter the amount as a number, for example 500 or 499.90.")
        ) from exc


@login_required
@require_POST
def balance_topup(request):
    currency = request.POST.get("currency", settings.PARTA_DEFAULT_CURRENCY)
    try:
        amount = _amount_from(
            request, currency if currency in settings.PARTA_CURRENCIES else "RUB"
        )
        order = topup_create(user=request.user, amount=amount, currency=currency)
        checkout = checkout_start(
            order=order, base_url=request.build_absolute_uri("/").rstrip("/")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:balance")
    return redirect(checkout.session.url)


@login_required
@require_POST
def balance_topup_refund(request, pk: int):
    entry = get_object_or_404(LedgerEntry, pk=pk, account__user=request.user)
    try:
        amount = _amount_from(request, entry.account.currency)
        refund = refund_topup(entry=entry, amount=amount, requested_by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        _tell_refund_outcome(request, refund, _("The money is on its way back to your card."))
    return redirect("billing:balance")
