"""Billing API under /api/v1/billing/: orders, buying, paying from the balance, top-ups,
refunds, balance and history, auto-renewals. Errors share the API's one shape."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.access.models import AccessFreeze, AccessGrant
from parta.access.selectors import is_staff_like
from parta.accounts.models import User
from parta.billing import selectors
from parta.billing.models import (
    AutoRenewal,
    EntryKind,
    LedgerEntry,
    Order,
    RenewalCharge,
    RenewalStatus,
    TaxRate,
)
from parta.billing.services.freezes import purchase_freeze, purchase_unfreeze
from parta.billing.services.fulfilment import order_buy_with_balance, order_paid_from_balance
from parta.billing.services.ledger import balance_adjust
from parta.billing.services.orders import (
    MAX_TOPUP_MAJOR_UNITS,
    buy,
    checkout_start,
    order_create,
    topup_create,
)
from parta.billing.services.refunds import (
    refund_explanation,
    refund_grant,
    refund_quote,
    refund_topup,
)
from parta.billing.services.renewals import renewal_amount, renewal_cancel
from parta.billing.totals import round_half_up
from parta.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from parta.common.money import CURRENCY_EXPONENT
from parta.common.schema import ErrorSerializer
from parta.common.serializers import BoundedIntegerField, CurrencyField, IdField


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


class OrderLineOut(serializers.Serializer):
    title = serializers.CharField()
    unit_amount = serializers.IntegerField()
    discount_amount = serializers.IntegerField()
    tax_amount = serializers.IntegerField()
    total = serializers.IntegerField()


class OrderTaxOut(serializers.Serializer):
    name = serializers.CharField()
    rate_bp = serializers.IntegerField(help_text="Basis points: 2000 = 20%")
    inclusive = serializers.BooleanField()
    amount = serializers.IntegerField()


class OrderOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    purpose = serializers.CharField()
    status = serializers.CharField()
    currency = serializers.CharField()
    subtotal = serializers.IntegerField()
    discount_total = serializers.IntegerField()
    tax_total = serializers.IntegerField()
    tax_included = serializers.IntegerField()
    total = serializers.IntegerField(help_text="Minor units.")
    coupon = serializers.CharField(source="discount.code", default=None, allow_null=True)
    provider = serializers.CharField()
    checkout_url = serializers.CharField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    lines = OrderLineOut(many=True)
    taxes = OrderTaxOut(many=True)


class CheckoutOut(serializers.Serializer):
    order_id = serializers.IntegerField()
    session_id = serializers.CharField()
    url = serializers.CharField()
    reused = serializers.BooleanField()


def _checkout_data(checkout) -> dict:
    return {
        "order_id": checkout.order.pk,
        "session_id": checkout.session.session_id,
        "url": checkout.session.url,
        "reused": checkout.reused,
    }


def _orders_qs():
    return Order.objects.select_related("discount").prefetch_related("lines", "taxes")


class OrderListApi(APIView):
    @extend_schema_serializer(component_name="OrderListInput")
    class InputSerializer(serializers.Serializer):
        items = serializers.ListField(child=IdField(), min_length=1, max_length=20)
        currency = CurrencyField()
        coupon = serializers.CharField(required=False, allow_blank=True, max_length=40)
        pay_from_balance = serializers.BooleanField(default=False)

    @extend_schema(responses=OrderOut(many=True), operation_id="billing_orders_list")
    def get(self, request):
        orders = _orders_qs().filter(user=request.user).order_by("-created_at")[:100]
        return Response(OrderOut(orders, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: OrderOut},
        operation_id="billing_orders_create",
        description="Place an order for several items in one currency. With "
        "`pay_from_balance` it is paid from the balance at once (or refused with 409).",
    )
    def post(self, request):
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["pay_from_balance"]:
            order = order_buy_with_balance(
                user=request.user,
                item_ids=data["items"],
                currency=data["currency"],
                coupon=data.get("coupon", ""),
            )
        else:
            order = order_create(
                user=request.user,
                item_ids=data["items"],
                currency=data["currency"],
                coupon=data.get("coupon", ""),
            )
        order = _orders_qs().get(pk=order.pk)
        return Response(OrderOut(order).data, status=status.HTTP_201_CREATED)


def _order_of(request, pk: int) -> Order:
    order = _orders_qs().filter(pk=pk).first()
    if order is None or (order.user_id != request.user.id and not is_staff_like(request.user)):
        raise NotFound(_("No such order."))
    return order


class OrderDetailApi(APIView):
    @extend_schema(responses=OrderOut, operation_id="billing_orders_retrieve")
    def get(self, request, pk: int):
        return Response(OrderOut(_order_of(request, pk)).data)


class OrderCheckoutApi(APIView):
    @extend_schema(request=None, responses=CheckoutOut, operation_id="billing_orders_checkout")
    def post(self, request, pk: int):
        """Go to the order's checkout: the open session if there is one, else a new one."""
        order = _order_of(request, pk)
        return Response(_checkout_data(checkout_start(order=order, base_url=_base_url(request))))


class OrderPayFromBalanceApi(APIView):
    @extend_schema(
        request=None, responses=OrderOut, operation_id="billing_orders_pay_from_balance"
    )
    def post(self, request, pk: int):
        order = order_paid_from_balance(order=_order_of(request, pk))
        return Response(OrderOut(_orders_qs().get(pk=order.pk)).data)


class BuyApi(APIView):
    @extend_schema_serializer(component_name="BuyInput")
    class InputSerializer(serializers.Serializer):
        item = IdField()
        currency = CurrencyField(required=False, allow_blank=True)
        coupon = serializers.CharField(required=False, allow_blank=True, max_length=40)

    @extend_schema(request=InputSerializer, responses=CheckoutOut, operation_id="billing_buy")
    def post(self, request):
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        checkout = buy(
            user=request.user,
            item_id=data["item"],
            currency=data.get("currency", ""),
            coupon=data.get("coupon", ""),
            base_url=_base_url(request),
        )
        return Response(_checkout_data(checkout))


# The largest top-up in every accepted currency, in minor units (the schema states it).
MAX_TOPUP_MINOR_UNITS = min(
    MAX_TOPUP_MAJOR_UNITS * 10 ** CURRENCY_EXPONENT.get(currency, 2)
    for currency in settings.PARTA_CURRENCIES
)


class TopUpApi(APIView):
    @extend_schema_serializer(component_name="TopUpInput")
    class InputSerializer(serializers.Serializer):
        amount = BoundedIntegerField(
            min_value=1, max_value=MAX_TOPUP_MINOR_UNITS, help_text="Minor units (kopecks, cents)."
        )
        currency = CurrencyField()

    @extend_schema(
        request=InputSerializer, responses={201: CheckoutOut}, operation_id="billing_topup"
    )
    def post(self, request):
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = topup_create(
            user=request.user,
            amount=body.validated_data["amount"],
            currency=body.validated_data["currency"],
        )
        checkout = checkout_start(order=order, base_url=_base_url(request))
        return Response(_checkout_data(checkout), status=status.HTTP_201_CREATED)


class RefundOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    destination = serializers.CharField()
    status = serializers.CharField()
    days_used = serializers.IntegerField()
    days_total = serializers.IntegerField()
    days_frozen = serializers.IntegerField()
    failure_reason = serializers.CharField()


class RefundApi(APIView):
    @extend_schema_serializer(component_name="RefundInput")
    class InputSerializer(serializers.Serializer):
        grant = IdField(required=False)
        to_balance = serializers.BooleanField(default=False)
        topup_entry = IdField(required=False)
        amount = BoundedIntegerField(
            required=False, min_value=1, help_text="Top-ups only; minor units."
        )

        def validate(self, attrs):
            if ("grant" in attrs) == ("topup_entry" in attrs):
                raise serializers.ValidationError(_("Give either a grant or a top-up entry."))
            if "topup_entry" in attrs and "amount" not in attrs:
                raise serializers.ValidationError({"amount": "Give the amount to refund."})
            return attrs

    class GrantRefundInput(serializers.Serializer):
        grant = IdField()
        to_balance = serializers.BooleanField(default=False)

    class TopUpRefundInput(serializers.Serializer):
        topup_entry = IdField()
        amount = BoundedIntegerField(min_value=1, help_text="Minor units.")

    @extend_schema(
        # Either a grant or a top-up entry: one of two shapes, as the schema says.
        request=PolymorphicProxySerializer(
            component_name="RefundInput",
            serializers=[
                extend_schema_serializer(component_name="GrantRefundInput")(GrantRefundInput),
                extend_schema_serializer(component_name="TopUpRefundInput")(TopUpRefundInput),
            ],
            resource_type_field_name=None,
        ),
        responses={201: RefundOut},
        operation_id="billing_refunds_create",
        description="Refund a purchase's unused days by one of its grants (prorated; the "
        "purchase day counts as used), or part of a top-up back to its payment. A second "
        "refund of the same purchase answers 409 and changes nothing.",
    )
    def post(self, request):
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "grant" in data:
            grant = AccessGrant.objects.filter(pk=data["grant"]).first()
            if grant is None or (
                grant.user_id != request.user.id and not is_staff_like(request.user)
            ):
                raise NotFound(_("No such access."))
            refund = refund_grant(
                grant=grant, requested_by=request.user, to_balance=data["to_balance"]
            )
        else:
            # Anything not the caller's answers as if it did not exist.
            entries = LedgerEntry.objects.filter(pk=data["topup_entry"], kind=EntryKind.TOPUP)
            if not is_staff_like(request.user):
                entries = entries.filter(account__user=request.user)
            entry = entries.first()
            if entry is None:
                raise NotFound(_("There is no such top-up."))
            refund = refund_topup(entry=entry, amount=data["amount"], requested_by=request.user)
        return Response(RefundOut(refund).data, status=status.HTTP_201_CREATED)


class RefundQuoteOut(serializers.Serializer):
    grant = serializers.IntegerField()
    order_id = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Minor units: what a refund returns now.")
    currency = serializers.CharField()
    paid = serializers.IntegerField(help_text="Minor units paid for the purchase.")
    days_total = serializers.IntegerField(
        help_text="A plan's days, or a course's refund period in days."
    )
    days_used = serializers.IntegerField(help_text="The purchase day counts as used.")
    days_frozen = serializers.IntegerField(help_text="Paused days: neither used nor added.")
    days_left = serializers.IntegerField()
    price_per_day = serializers.IntegerField(help_text="Minor units: paid / days_total.")
    destinations = serializers.ListField(
        child=serializers.ChoiceField(choices=["card", "balance"]),
        help_text="Where the money can go; send to_balance to choose the balance.",
    )
    explanation = serializers.CharField()


class RefundQuoteApi(APIView):
    @extend_schema_serializer(component_name="RefundQuoteInput")
    class InputSerializer(serializers.Serializer):
        grant = serializers.IntegerField(min_value=1, max_value=2**63 - 1)

    @extend_schema(
        parameters=[InputSerializer],
        responses=RefundQuoteOut,
        operation_id="billing_refunds_quote",
        description="What refunding the purchase behind a grant would return now, and how "
        "it is worked out (days used and paused, the price per day, what was paid).",
    )
    def get(self, request):
        body = self.InputSerializer(data=request.query_params)
        body.is_valid(raise_exception=True)
        grant = AccessGrant.objects.filter(pk=body.validated_data["grant"]).first()
        if grant is None or (grant.user_id != request.user.id and not is_staff_like(request.user)):
            raise NotFound(_("No such access."))
        quote = refund_quote(grant=grant, explain=True)
        return Response(
            {
                "grant": grant.pk,
                "order_id": quote.line.order_id,
                "amount": quote.amount,
                "currency": quote.currency,
                "paid": quote.paid,
                "days_total": quote.days_total,
                "days_used": quote.days_used,
                "days_frozen": quote.days_frozen,
                "days_left": quote.days_left,
                "price_per_day": round_half_up(quote.paid, quote.days_total),
                "destinations": ["card", "balance"] if quote.to_card_possible else ["balance"],
                "explanation": refund_explanation(quote),
            }
        )


class BalanceOut(serializers.Serializer):
    currency = serializers.CharField()
    balance = serializers.IntegerField()
    held = serializers.IntegerField()
    available = serializers.IntegerField()


class EntryOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    amount = serializers.IntegerField(help_text="> 0 adds to the balance, < 0 takes from it.")
    balance_after = serializers.IntegerField()
    currency = serializers.CharField(source="account.currency")
    description = serializers.SerializerMethodField(
        help_text="What the entry was, in the caller's language."
    )
    order_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_description(self, entry) -> str:
        # The stored text is in the language of whoever caused the entry; the reader gets
        # theirs (the history selector has already worked it out for its entries).
        return getattr(entry, "what", None) or selectors.entry_text(entry)


class BalanceApi(APIView):
    @extend_schema_serializer(component_name="BalanceOutput")
    class OutputSerializer(serializers.Serializer):
        balances = BalanceOut(many=True)
        history = EntryOut(many=True)

    @extend_schema(responses=OutputSerializer, operation_id="billing_balance")
    def get(self, request):
        return Response(
            {
                "balances": BalanceOut(selectors.balances_for(user=request.user), many=True).data,
                "history": EntryOut(selectors.history_for(user=request.user), many=True).data,
            }
        )


class FreezeOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    grant = serializers.IntegerField(source="grant_id")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    days = serializers.IntegerField()


class FreezeApi(APIView):
    @extend_schema_serializer(component_name="FreezeInput")
    class InputSerializer(serializers.Serializer):
        grant = IdField()
        days = serializers.IntegerField(min_value=1, max_value=365)

    @extend_schema(
        request=InputSerializer,
        responses={201: FreezeOut(many=True)},
        operation_id="billing_freezes_create",
        description="Pause a purchase (all courses of a plan) for N days, within its "
        "freeze limit. Students pause their own; staff and moderators anyone's.",
    )
    def post(self, request):
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        grant = AccessGrant.objects.filter(pk=body.validated_data["grant"]).first()
        if grant is None or (grant.user_id != request.user.id and not is_staff_like(request.user)):
            raise NotFound(_("No such access."))
        freezes = purchase_freeze(grant=grant, days=body.validated_data["days"], by=request.user)
        return Response(FreezeOut(freezes, many=True).data, status=status.HTTP_201_CREATED)


class FreezeEndApi(APIView):
    @extend_schema(
        request=None, responses=FreezeOut(many=True), operation_id="billing_freezes_end"
    )
    def post(self, request, pk: int):
        """Resume now: the unused days go back."""
        freeze = AccessFreeze.objects.select_related("grant").filter(pk=pk).first()
        if freeze is None or (
            freeze.grant.user_id != request.user.id and not is_staff_like(request.user)
        ):
            raise NotFound(_("No such freeze."))
        return Response(
            FreezeOut(purchase_unfreeze(freeze=freeze, by=request.user), many=True).data
        )


class AdjustmentApi(APIView):
    """Staff correct a balance with a new ledger entry (positive or negative)."""

    @extend_schema_serializer(component_name="AdjustmentInput")
    class InputSerializer(serializers.Serializer):
        user = IdField()
        currency = CurrencyField()
        amount = serializers.IntegerField(help_text="Minor units; negative takes money away.")
        reason = serializers.CharField(max_length=200)
        key = serializers.UUIDField(help_text="Send the same key to retry safely.")

    @extend_schema(
        request=InputSerializer,
        responses={
            201: EntryOut,
            200: OpenApiResponse(EntryOut, description="The same key again: the entry made then."),
        },
        operation_id="billing_adjust",
    )
    def post(self, request):
        if not is_staff_like(request.user) or request.user.role == "moderator":
            raise PermissionDenied(_("Only staff correct balances."))
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if not User.objects.filter(pk=data["user"]).exists():
            raise NotFound(_("No such user."))
        posting = balance_adjust(
            user_id=data["user"],
            currency=data["currency"].upper(),
            amount=data["amount"],
            reason=data["reason"],
            by_id=request.user.id,
            by=request.user,
            key=str(data["key"]),
        )
        status_code = status.HTTP_201_CREATED if posting.created else status.HTTP_200_OK
        return Response(EntryOut(posting.entry).data, status=status_code)


class RenewalChargeOut(serializers.Serializer):
    period = serializers.IntegerField(help_text="The period charged: 2 is the first renewal.")
    status = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])
    attempts = serializers.IntegerField()
    order_id = serializers.IntegerField(allow_null=True)
    failure_reason = serializers.CharField()
    updated_at = serializers.DateTimeField()


class NextChargeOut(serializers.Serializer):
    at = serializers.DateTimeField()
    amount = serializers.IntegerField(help_text="Minor units: the plan's price now, with tax.")
    currency = serializers.CharField()


class RenewalOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    plan = serializers.CharField(source="item.title", help_text="The plan's title.")
    item = serializers.IntegerField(source="item_id")
    status = serializers.ChoiceField(choices=RenewalStatus.values)
    provider = serializers.CharField()
    currency = serializers.CharField()
    period = serializers.IntegerField(help_text="The number of the period paid last.")
    failures = serializers.IntegerField(help_text="Declined charges in a row.")
    next_charge = serializers.SerializerMethodField(
        help_text="When the next period is charged and what it takes; null when the "
        "renewal is not on."
    )
    last_charge = serializers.SerializerMethodField(
        help_text="The latest renewal charge and its outcome; null before the first."
    )
    ended_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    @extend_schema_field(NextChargeOut(allow_null=True))
    def get_next_charge(self, renewal) -> dict | None:
        if renewal.status != RenewalStatus.ACTIVE or renewal.next_charge_at is None:
            return None
        # Through the serializer, so its moment is written like every other (school time).
        return NextChargeOut(
            {
                "at": renewal.next_charge_at,
                "amount": renewal_amount(
                    item=renewal.item, currency=renewal.currency, taxes=self.context["taxes"]
                ),
                "currency": renewal.currency,
            }
        ).data

    @extend_schema_field(RenewalChargeOut(allow_null=True))
    def get_last_charge(self, renewal) -> dict | None:
        charges = renewal.last_charges
        return RenewalChargeOut(charges[0]).data if charges else None


def _renewals_qs():
    # The latest charge of each renewal only (a window query), whatever their number.
    last = RenewalCharge.objects.order_by("renewal_id", "-period")
    return AutoRenewal.objects.select_related("item").prefetch_related(
        "item__prices", Prefetch("charges", queryset=last[:1], to_attr="last_charges")
    )


def _renewal_context(renewals) -> dict:
    """The active taxes, read once, and only when some renewal is on."""
    if any(r.status == RenewalStatus.ACTIVE for r in renewals):
        return {"taxes": list(TaxRate.objects.filter(is_active=True).order_by("id"))}
    return {"taxes": []}


def _renewal_data(renewal: AutoRenewal) -> dict:
    return RenewalOut(renewal, context=_renewal_context([renewal])).data


def _renewal_of(request, pk: int) -> AutoRenewal:
    renewal = _renewals_qs().filter(pk=pk).first()
    if renewal is None or (renewal.user_id != request.user.id and not is_staff_like(request.user)):
        raise NotFound(_("There is no such auto-renewal."))
    return renewal


class RenewalListApi(APIView):
    @extend_schema_serializer(component_name="RenewalListInput")
    class InputSerializer(serializers.Serializer):
        user = IdField(required=False, help_text="Staff: a client's renewals instead of yours.")

    @extend_schema(
        parameters=[InputSerializer],
        responses={
            200: RenewalOut(many=True),
            400: OpenApiResponse(ErrorSerializer, description="`user` is not an id."),
            404: OpenApiResponse(ErrorSerializer, description="Staff: no such user."),
        },
        operation_id="billing_renewals_list",
        description="Your auto-renewals, newest first (at most 100): each with its next "
        "charge and the outcome of the last one. Staff and moderators may pass `user` "
        "to see a client's.",
    )
    def get(self, request):
        body = self.InputSerializer(data=request.query_params)
        body.is_valid(raise_exception=True)
        user_id = body.validated_data.get("user", request.user.id)
        if user_id != request.user.id:
            if not is_staff_like(request.user):
                raise PermissionDenied(_("Only staff see another user's auto-renewals."))
            if not User.objects.filter(pk=user_id).exists():
                raise NotFound(_("No such user."))
        renewals = _renewals_qs().filter(user_id=user_id).order_by("-created_at", "-id")
        renewals = list(renewals[:100])
        return Response(RenewalOut(renewals, many=True, context=_renewal_context(renewals)).data)


class RenewalDetailApi(APIView):
    @extend_schema(responses=RenewalOut, operation_id="billing_renewals_retrieve")
    def get(self, request, pk: int):
        return Response(_renewal_data(_renewal_of(request, pk)))


class RenewalCancelApi(APIView):
    @extend_schema(
        request=None,
        responses={
            200: RenewalOut,
            403: OpenApiResponse(
                ErrorSerializer, description="A moderator acting on a client's renewal."
            ),
            409: OpenApiResponse(
                ErrorSerializer, description="The renewal has ended (or is not on yet)."
            ),
        },
        operation_id="billing_renewals_cancel",
        description="Turn auto-renewal off: nothing is charged again and the period paid "
        "runs to its end. Cancelling a cancelled renewal again answers 200 and changes "
        "nothing; one that has ended answers 409. Staff may turn off a client's "
        "(audited); a moderator gets 403.",
    )
    def post(self, request, pk: int):
        renewal = _renewal_of(request, pk)
        if renewal.status != RenewalStatus.CANCELLED:
            try:
                renewal_cancel(renewal=renewal, by=request.user)
            except ApplicationError as exc:
                if isinstance(exc, (NotFound, PermissionDenied)):
                    raise
                # Cancelled meanwhile (a second click at once) is the same answer.
                if not AutoRenewal.objects.filter(
                    pk=renewal.pk, status=RenewalStatus.CANCELLED
                ).exists():
                    raise Conflict(exc.message) from exc
            renewal = _renewals_qs().get(pk=renewal.pk)
        return Response(_renewal_data(renewal))
