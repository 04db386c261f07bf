"""Billing pages: the item page with its Buy button, `/buy/` (JSON), the order page,
the sandbox's hosted checkout and the provider webhooks."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parta.access.selectors import is_staff_like
from parta.billing import selectors
from parta.billing.models import (
    AutoRenewal,
    BalanceAccount,
    Item,
    Order,
    OrderPurpose,
    OrderStatus,
)
from parta.billing.providers import sandbox
from parta.billing.providers.base import EventKind, InvalidWebhook, ProviderError
from parta.billing.providers.registry import (
    UnknownProvider,
    enabled_providers,
    get_provider,
    provider_name_for,
)
from parta.billing.services.fulfilment import order_paid_from_balance
from parta.billing.services.orders import buy, order_create
from parta.billing.services.renewals import renewal_supported
from parta.billing.services.webhooks import webhook_receive
from parta.common.errors import ApplicationError, error_body
from parta.common.http import client_ip


def _error_json(exc: ApplicationError) -> JsonResponse:
    return JsonResponse(error_body(exc), status=exc.status_code)


@require_GET
def item_page(request, pk: int):
    item = get_object_or_404(
        Item.objects.select_related("course", "plan").prefetch_related("prices", "plan__courses"),
        pk=pk,
        is_active=True,
    )
    if (item.course and not item.course.is_published) or (
        item.plan and not item.plan.is_published
    ):
        raise Http404
    prices = sorted(item.prices.all(), key=lambda p: p.currency != settings.PARTA_DEFAULT_CURRENCY)
    description = item.description or (item.course or item.plan).description
    courses = list(item.plan.courses.all()) if item.plan else [item.course]
    owned = selectors.lifetime_course_ids(user=request.user, course_ids=[c.pk for c in courses])
    return render(
        request,
        "billing/item.html",
        {
            "item": item,
            "prices": prices,
            "description": description,
            "owned_for_good": [c for c in courses if c.pk in owned],
            "balance_covers": _balance_covering(request.user, prices),
            # A plan may renew itself where the provider of one of its currencies saves cards.
            "can_auto_renew": bool(item.plan)
            and any(renewal_supported(provider=provider_name_for(p.currency)) for p in prices),
        },
    )


def _balance_covering(user, prices) -> list:
    """The prices the user's balance covers now, each with the account: the item page
    offers to pay them from the balance."""
    if not user.is_authenticated:
        return []
    accounts = {a.currency: a for a in selectors.balances_for(user=user)}
    return [
        {"price": price, "account": accounts[price.currency]}
        for price in prices
        if price.currency in accounts and accounts[price.currency].available >= price.amount
    ]


@login_required
@require_POST
def item_pay_from_balance(request, pk: int):
    """Buy the item with the balance, no card: an order paid at once from the balance."""
    try:
        order = order_create(
            user=request.user,
            item_ids=[pk],
            currency=request.POST.get("pay_currency")
            or request.POST.get("currency")
            or settings.PARTA_DEFAULT_CURRENCY,
            coupon=request.POST.get("coupon", "").strip().upper(),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:item", pk=pk)
    return order_pay_from_balance(request, order.pk)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_http_methods(["GET", "POST"])
def buy_view(request, pk: int):
    """GET: JSON ``{"session_id", "url"}`` for the item's checkout (seed-compatible),
    reusing the buyer's open order for the item; it never takes a coupon. POST (a form,
    with an optional ``coupon``): places the order with the coupon and sends the buyer
    to the checkout (JSON instead when asked for)."""
    if not request.user.is_authenticated:
        login = (
            reverse("account_request_login_code") + f"?next={reverse('billing:item', args=[pk])}"
        )
        if request.method == "POST" and not _wants_json(request):
            return redirect(login)
        return JsonResponse(
            {"detail": _("Sign in to buy."), "code": "not_authenticated", "login_url": login},
            status=401,
        )
    params = request.POST if request.method == "POST" else request.GET
    if request.method == "GET" and request.GET.get("coupon", "").strip():
        return JsonResponse(
            {
                "detail": _("A coupon is applied when the order is placed: send the form."),
                "code": "coupon_needs_post",
                "errors": {"coupon": [_("Apply the coupon with the Buy button.")]},
            },
            status=400,
        )
    try:
        checkout = buy(
            user=request.user,
            item_id=pk,
            currency=params.get("currency", "")[:3],
            coupon=params.get("coupon", "")[:40] if request.method == "POST" else "",
            base_url=request.build_absolute_uri("/").rstrip("/"),
            auto_renew=request.method == "POST" and params.get("auto_renew") in ("1", "on"),
        )
    except ApplicationError as exc:
        if request.method == "POST" and not _wants_json(request):
            messages.error(request, exc.message)
            return redirect("billing:item", pk=pk)
        return _error_json(exc)
    if request.method == "POST" and not _wants_json(request):
        return redirect(checkout.session.url)
    return JsonResponse(
        {
            "session_id": checkout.session.session_id,
            "url": checkout.session.url,
            "order_id": checkout.order.pk,
            "reused": checkout.reused,
        }
    )


def _order_for_viewer(request, pk: int) -> Order:
    order = get_object_or_404(
        Order.objects.select_related("user", "discount").prefetch_related(
            "lines__item__course", "lines__item__plan__courses", "taxes"
        ),
        pk=pk,
    )
    if order.user_id != request.user.id and not is_staff_like(request.user):
        raise Http404  # not yours: the same answer as for no such order
    return order


@login_required
@require_GET
def order_page(request, pk: int):
    order = _order_for_viewer(request, pk)
    account = BalanceAccount.objects.filter(user=order.user, currency=order.currency).first()
    lines = list(order.lines.all())
    can_pay_from_balance = (
        order.status == OrderStatus.PENDING
        and order.purpose == OrderPurpose.PURCHASE
        and order.user_id == request.user.id
        and account is not None
        and account.available >= order.total
    )
    can_continue = (
        order.status == OrderStatus.PENDING
        and order.checkout_url
        and order.checkout_expires_at
        and order.checkout_expires_at > timezone.now()
    )
    courses = _courses_of(lines)
    owned = (
        selectors.lifetime_course_ids(user=order.user, course_ids=[c.pk for c in courses])
        if order.status == OrderStatus.PENDING
        else set()
    )
    return render(
        request,
        "billing/order.html",
        {
            "order": order,
            "lines": lines,
            "taxes": list(order.taxes.all()),
            "courses": courses,
            "owned_for_good": [c for c in courses if c.pk in owned],
            "can_continue": can_continue,
            "can_pay_from_balance": can_pay_from_balance,
            "can_retry": _can_retry(order, lines, request.user) and not can_continue,
            "payment_form": _payment_form(
                order, return_url=request.build_absolute_uri(request.path) + "?paid=1"
            ),
            "account": account,
            "just_paid": request.GET.get("paid") == "1",
            "cancelled": request.GET.get("cancelled") == "1",
        },
    )


def _courses_of(lines) -> list:
    """The courses an order's lines give: a course line its course, a plan line every
    course of the plan."""
    courses, seen = [], set()
    for line in lines:
        item = line.item
        for course in item.plan.courses.all() if item.plan else [item.course]:
            if course is not None and course.pk not in seen:
                seen.add(course.pk)
                courses.append(course)
    return courses


def _can_retry(order: Order, lines, user) -> bool:
    """A declined, expired or abandoned purchase of one item can be tried again."""
    return (
        order.purpose == OrderPurpose.PURCHASE
        and order.user_id == user.id
        and len(lines) == 1
        and order.status
        in (OrderStatus.FAILED, OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.PENDING)
        and lines[0].item.is_active
    )


@login_required
@require_POST
def order_retry(request, pk: int):
    """Try a declined or expired purchase again: a fresh checkout for the same item,
    currency and coupon."""
    order = get_object_or_404(
        Order.objects.select_related("discount").prefetch_related("lines"),
        pk=pk,
        user=request.user,
        purpose=OrderPurpose.PURCHASE,
    )
    lines = list(order.lines.all())
    if len(lines) != 1:
        raise Http404
    try:
        checkout = buy(
            user=request.user,
            item_id=lines[0].item_id,
            currency=order.currency,
            coupon=order.discount.code if order.discount else "",
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:item", pk=lines[0].item_id)
    return redirect(checkout.session.url)


def _payment_form(order: Order, *, return_url: str) -> dict | None:
    """For a PaymentIntent (paid on this page, not a hosted checkout): what the browser
    needs to show the card form and confirm."""
    if order.status != OrderStatus.PENDING or not order.checkout_client_secret:
        return None
    try:
        config = get_provider(order.provider).client_config(order.currency)
    except UnknownProvider:
        return None
    if not config.get("publishable_key"):
        return None
    return {
        "publishable_key": config["publishable_key"],
        "client_secret": order.checkout_client_secret,
    }


@login_required
@require_POST
def order_pay_from_balance(request, pk: int):
    order = get_object_or_404(Order, pk=pk, user=request.user)
    try:
        order_paid_from_balance(order=order)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Paid from the balance."))
    return redirect("billing:order", pk=order.pk)


# --- Sandbox hosted checkout -------------------------------------------------------------


def _sandbox_order(session_id: str) -> Order:
    if "sandbox" not in enabled_providers():
        raise Http404  # switched off (production with a real provider)
    order = (
        Order.objects.select_related("discount", "user")
        .prefetch_related("lines", "taxes")
        .filter(provider="sandbox", checkout_id=session_id)
        .first()
    )
    if order is None:
        raise Http404
    return order


@require_http_methods(["GET", "POST"])
def sandbox_checkout(request, session_id: str):
    """What a provider's hosted checkout would show: the lines, the discount, the
    taxes and the total, with Pay and Decline. Either button sends a signed webhook
    through the same path as a real provider's."""
    order = _sandbox_order(session_id)
    expired = bool(order.checkout_expires_at and order.checkout_expires_at <= timezone.now())
    if request.method == "POST" and order.status == OrderStatus.PENDING and not expired:
        paid = request.POST.get("action") == "pay"
        # "Save the card": a saved method the sandbox charges later as the buyer chose.
        saved = (
            sandbox.saved_method_id(request.POST.get("later_charges", ""))
            if paid and request.POST.get("save_card")
            else ""
        )
        body = sandbox.event_body(
            EventKind.CHECKOUT_PAID if paid else EventKind.CHECKOUT_FAILED,
            order_id=order.pk,
            session_id=session_id,
            amount=order.total,
            currency=order.currency,
            payment_id=f"sbx_pay_{order.pk}_{session_id[-8:]}",
            reason="" if paid else "declined by the buyer",
            **({"saved_method_id": saved} if saved else {}),
        )
        webhook_receive(provider_name="sandbox", body=body, headers=sandbox.sign(body))
        target = reverse("billing:order", args=[order.pk])
        return redirect(f"{target}?{'paid' if paid else 'cancelled'}=1")
    status = 410 if expired and order.status == OrderStatus.PENDING else 200
    return render(
        request,
        "billing/sandbox_checkout.html",
        {
            "order": order,
            "lines": list(order.lines.all()),
            "taxes": list(order.taxes.all()),
            "expired": expired,
            "save_card_asked": AutoRenewal.objects.filter(first_order=order).exists(),
            "hide_site_suffix": True,
        },
        status=status,
    )


# --- Webhooks ----------------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook(request, provider: str):
    try:
        outcome = webhook_receive(
            provider_name=provider,
            body=request.body,
            headers=request.headers,
            remote_addr=client_ip(request),
        )
    except UnknownProvider:
        return JsonResponse({"detail": "Unknown provider.", "code": "not_found"}, status=404)
    except InvalidWebhook as exc:
        return JsonResponse({"detail": f"Invalid webhook: {exc}", "code": "invalid"}, status=400)
    except ProviderError as exc:
        # The provider could not confirm the notification now; it sends it again.
        return JsonResponse({"detail": exc.message, "code": "unavailable"}, status=503)
    reply = get_provider(provider).webhook_reply(duplicate=outcome.duplicate)
    if reply is not None:
        body, content_type = reply
        return HttpResponse(body, content_type=content_type)
    return JsonResponse(
        {
            "status": "duplicate" if outcome.duplicate else outcome.event.status,
            "event": outcome.event.event_id,
        }
    )
