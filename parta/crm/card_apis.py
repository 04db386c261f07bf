"""The client card in the REST API, under /api/v1/crm/clients/<id>/: the card (staff see
everything, moderators the learning parts) and its actions.

Each action takes the same input as the card's form (amounts in minor units here), a
``reason``, a ``key`` (a UUID of the caller's: the same key again does nothing again)
and ``confirm``. Without ``confirm: true`` nothing changes: the answer is 400 with code
``confirmation_required`` and, in ``summary``, what the call would do. Errors share the
API's one shape; money and access actions are staff only (403 for moderators)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.billing.models import LedgerEntry
from parta.catalog.forms import format_major_units
from parta.common.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from parta.common.money import CURRENCY_EXPONENT
from parta.common.serializers import BoundedIntegerField, CurrencyField, IdField
from parta.crm.card import ClientCard, client_card, client_get
from parta.crm.card_forms import FORMS, ActionForm
from parta.crm.formkeys import api_key_spend
from parta.crm.permissions import can_see_money, can_use_crm


def _client_for(request) -> None:
    if not can_use_crm(request.user):
        raise PermissionDenied(_("Only staff and moderators open client cards."))


def _client(pk: int):
    client = client_get(pk=pk)
    if client is None:
        raise NotFound(_("No such client."))
    return client


# --- the card ----------------------------------------------------------------------------


class _Profile(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    full_name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()
    telegram = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()

    def get_telegram(self, user) -> bool:
        return bool(user.telegram_chat_id)


class _Freeze(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    days = serializers.IntegerField()


class _Grant(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    course = serializers.IntegerField(source="course_id")
    course_title = serializers.CharField(source="course.title")
    source = serializers.CharField()
    starts_at = serializers.DateTimeField()
    available_until = serializers.DateTimeField(allow_null=True)
    is_active = serializers.BooleanField()
    freeze_limit_days = serializers.IntegerField()
    frozen_days = serializers.IntegerField()
    freezes = _Freeze(many=True, source="freezes.all")


class _Order(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    purpose = serializers.CharField()
    status = serializers.CharField()
    provider = serializers.CharField()
    currency = serializers.CharField()
    total = serializers.IntegerField(help_text="Minor units.")
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    lines = serializers.SerializerMethodField()

    def get_lines(self, order) -> list[str]:
        return [line.title for line in order.lines.all()]


class _Payment(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    order = serializers.IntegerField(source="order_id", allow_null=True)
    provider = serializers.CharField()
    provider_payment_id = serializers.CharField()
    amount = serializers.IntegerField()
    refunded_amount = serializers.IntegerField()
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()


class _Refund(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    destination = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class _Balance(serializers.Serializer):
    currency = serializers.CharField()
    balance = serializers.IntegerField()
    held = serializers.IntegerField()


class _Entry(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    currency = serializers.CharField(source="account.currency")
    description = serializers.CharField()
    created_at = serializers.DateTimeField()


class _Stat(serializers.Serializer):
    course = serializers.IntegerField(source="course_id")
    title = serializers.CharField()
    solved = serializers.IntegerField()
    tasks_total = serializers.IntegerField()
    attempts = serializers.IntegerField()
    last_answer_at = serializers.DateTimeField(allow_null=True)


class _Membership(serializers.Serializer):
    course = serializers.IntegerField(source="course_id")
    group = serializers.IntegerField(source="group_id")
    group_name = serializers.CharField(source="group.display_name")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField()


class _Invitation(serializers.Serializer):
    session = serializers.IntegerField(source="session_id")
    course_title = serializers.CharField(source="session.course.title")
    starts_at = serializers.DateTimeField(source="session.starts_at")
    cancelled = serializers.BooleanField(source="session.is_cancelled")
    response = serializers.CharField()
    attended = serializers.BooleanField(allow_null=True)


class _Thread(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    subject = serializers.CharField()
    state = serializers.CharField()
    last_message_at = serializers.DateTimeField(allow_null=True)


class _Notification(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()


class _Audit(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    action = serializers.CharField()
    object = serializers.CharField(source="object_repr")
    before = serializers.DictField()
    after = serializers.DictField()
    reason = serializers.CharField()


class ClientCardOut(serializers.Serializer):
    profile = _Profile(source="client")
    money = serializers.BooleanField(help_text="False for moderators: the money parts are empty.")
    stats = _Stat(many=True)
    memberships = _Membership(many=True)
    invitations = _Invitation(many=True)
    threads = _Thread(many=True)
    grants = _Grant(many=True)
    orders = _Order(many=True)
    payments = _Payment(many=True)
    refunds = _Refund(many=True)
    balances = _Balance(many=True)
    ledger = _Entry(many=True)
    notifications = _Notification(many=True)
    audit = _Audit(many=True)


class ClientCardApi(APIView):
    @extend_schema(responses=ClientCardOut, operation_id="crm_client_card")
    def get(self, request, pk: int):
        """One client's card: the newest 50 of each list."""
        _client_for(request)
        card: ClientCard = client_card(client=_client(pk), viewer=request.user)
        return Response(ClientCardOut(card).data)


# --- actions -----------------------------------------------------------------------------


class _ActionBase(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Kept in the audit log.")
    key = serializers.UUIDField(help_text="Yours: the same key again does nothing again.")
    confirm = serializers.BooleanField(
        default=False, help_text="Without true nothing changes: the answer says what would."
    )


class ActionDone(serializers.Serializer):
    detail = serializers.CharField()


class ActionApi(APIView):
    action = ""
    Input: type[serializers.Serializer] = _ActionBase

    def form_data(self, data: dict) -> dict:
        return {}

    def post(self, request, pk: int):
        _client_for(request)
        form_class: type[ActionForm] = FORMS[self.action]
        if form_class.staff_only and not can_see_money(request.user):
            raise PermissionDenied(_("Only staff do this."))
        client = _client(pk)
        body = self.Input(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        fields = {"reason": data["reason"], "key": str(data["key"]), **self.form_data(data)}
        card = client_card(client=client, viewer=request.user)
        form = form_class(
            {f"{self.action}-{name}": value for name, value in fields.items()},
            card=card,
            viewer=request.user,
        )
        if not form.is_valid():
            raise ValidationFailed(
                {name: [str(m) for m in messages] for name, messages in form.errors.items()}
            )
        if not data["confirm"]:
            raise ApplicationError(
                _("Send it again with confirm: true to do this: %(summary)s")
                % {"summary": form.summary()},
                extra={"code": "confirmation_required", "summary": form.summary()},
            )
        with api_key_spend(str(data["key"]), user=request.user):
            done = form.perform()
        return Response({"detail": done}, status=201)


def _major(amount: int, currency: str) -> str:
    if currency not in CURRENCY_EXPONENT:
        return str(amount)
    text = format_major_units(abs(amount), currency)
    return f"-{text}" if amount < 0 else text


@extend_schema_serializer(component_name="CrmGrantInput")
class _GrantIn(_ActionBase):
    course = IdField(required=False)
    plan = IdField(required=False)
    days = serializers.IntegerField(min_value=1, max_value=3650)


class GrantApi(ActionApi):
    action = "grant"
    Input = _GrantIn

    def form_data(self, data):
        target = f"course:{data['course']}" if data.get("course") else f"plan:{data.get('plan')}"
        return {"target": target, "days": data["days"]}


@extend_schema_serializer(component_name="CrmOfflinePaymentInput")
class _OfflineIn(_ActionBase):
    method = serializers.ChoiceField(choices=["cash", "transfer"])
    document = serializers.CharField(max_length=64)
    item = IdField(required=False, allow_null=True, help_text="Empty: onto the balance.")
    currency = CurrencyField()
    amount = BoundedIntegerField(help_text="Minor units received.")


class OfflinePaymentApi(ActionApi):
    action = "offline-payment"
    Input = _OfflineIn

    def form_data(self, data):
        return {
            "method": data["method"],
            "document": data["document"],
            "item": data.get("item") or "",
            "currency": data["currency"],
            "amount": _major(data["amount"], data["currency"]),
        }


@extend_schema_serializer(component_name="CrmFreezeInput")
class _FreezeIn(_ActionBase):
    grant = IdField()
    days = serializers.IntegerField(min_value=1, max_value=365)


class FreezeApi(ActionApi):
    action = "freeze"
    Input = _FreezeIn

    def form_data(self, data):
        return {"grant": data["grant"], "days": data["days"]}


@extend_schema_serializer(component_name="CrmUnfreezeInput")
class _UnfreezeIn(_ActionBase):
    freeze = IdField()


class UnfreezeApi(ActionApi):
    action = "unfreeze"
    Input = _UnfreezeIn

    def form_data(self, data):
        return {"freeze": data["freeze"]}


@extend_schema_serializer(component_name="CrmRefundInput")
class _RefundIn(_ActionBase):
    grant = IdField(required=False, help_text="A purchase: its unused days.")
    topup = IdField(required=False, help_text="A top-up's ledger entry: part or all of it.")
    to_balance = serializers.BooleanField(default=False)
    amount = BoundedIntegerField(required=False, help_text="Top-ups: minor units.")


class RefundApi(ActionApi):
    action = "refund"
    Input = _RefundIn

    def form_data(self, data):
        if data.get("topup"):
            entry = LedgerEntry.objects.select_related("account").filter(pk=data["topup"]).first()
            currency = entry.account.currency if entry else "RUB"
            return {
                "target": f"topup:{data['topup']}",
                "destination": "card",
                "amount": _major(data.get("amount") or 0, currency),
            }
        return {
            "target": f"grant:{data.get('grant')}",
            "destination": "balance" if data["to_balance"] else "card",
        }


@extend_schema_serializer(component_name="CrmAdjustmentInput")
class _AdjustIn(_ActionBase):
    currency = CurrencyField()
    amount = BoundedIntegerField(help_text="Minor units; negative takes money away.")


class AdjustApi(ActionApi):
    action = "adjust"
    Input = _AdjustIn

    def form_data(self, data):
        return {"currency": data["currency"], "amount": _major(data["amount"], data["currency"])}


@extend_schema_serializer(component_name="CrmMoveInput")
class _MoveIn(_ActionBase):
    group = IdField()
    override = serializers.BooleanField(default=False, help_text="Staff: even into a full group.")


class MoveApi(ActionApi):
    action = "move"
    Input = _MoveIn

    def form_data(self, data):
        return {"group": data["group"], **({"override": "on"} if data["override"] else {})}


@extend_schema_serializer(component_name="CrmMessageInput")
class _MessageIn(_ActionBase):
    channel = serializers.ChoiceField(choices=["email", "telegram"])
    text = serializers.CharField(max_length=4000)


class MessageApi(ActionApi):
    action = "message"
    Input = _MessageIn

    def form_data(self, data):
        return {"channel": data["channel"], "text": data["text"]}


def _bind(api: type[ActionApi], operation_id: str, description: str) -> None:
    """Each action's own ``post`` (the schema is attached to the function)."""

    def post(self, request, pk: int):
        return ActionApi.post(self, request, pk)

    api.post = extend_schema(
        request=api.Input,
        responses={
            201: ActionDone,
            400: OpenApiResponse(
                description="Bad input, or no confirm (code confirmation_required)."
            ),
        },
        operation_id=operation_id,
        description=description,
    )(post)


for _api, _op, _text in (
    (GrantApi, "crm_client_grant", "Staff: a course or a plan for N days."),
    (
        OfflinePaymentApi,
        "crm_client_offline_payment",
        "Staff: cash or a bank transfer, with its document number (pays once).",
    ),
    (FreezeApi, "crm_client_freeze", "Staff: pause a purchase for N days."),
    (UnfreezeApi, "crm_client_unfreeze", "Staff: end a running freeze now."),
    (RefundApi, "crm_client_refund", "Staff: a purchase's unused days, or part of a top-up."),
    (AdjustApi, "crm_client_adjust", "Staff: correct the balance (never below zero)."),
    (MoveApi, "crm_client_move", "Staff and moderators: into another group of the course."),
    (MessageApi, "crm_client_message", "Staff and moderators: by email or Telegram."),
):
    _bind(_api, _op, _text)
