"""The clients list in the REST API, with the page's filters and sorting.

Staff and moderators (token or session); students get 403. Moderators get the same
list without money: the ``balances`` field is left out of each row (as the page leaves
out its column), rather than a 403, so the bot and tools moderators use can look clients
up too."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.common.errors import PermissionDenied, ValidationFailed
from parta.common.schema import ErrorSerializer
from parta.crm import clients
from parta.crm.client_forms import ClientFilterForm
from parta.crm.clients import SORTS, ClientRow
from parta.crm.permissions import can_see_money, can_use_crm
from parta.crm.status import STATUS_FILTERS, STATUS_LABELS

DEFAULT_LIMIT = 30
MAX_LIMIT = 100


class MoneyOut(serializers.Serializer):
    amount = serializers.IntegerField(help_text="Minor units (kopecks, cents).")
    currency = serializers.CharField()
    formatted = serializers.CharField()


class ClientOut(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField(help_text="E.164, or empty.")
    registered_at = serializers.DateTimeField()
    last_active = serializers.DateField(allow_null=True, help_text="The last day with activity.")
    status = serializers.ChoiceField(choices=list(STATUS_LABELS))
    status_label = serializers.CharField()
    status_reason = serializers.CharField(help_text="Why, e.g. «план «Полгода» до 12.01».")
    status_until = serializers.DateTimeField(
        allow_null=True, help_text="When the status ends (expired: when access ended)."
    )
    balances = MoneyOut(
        many=True, required=False, help_text="Staff only: left out for moderators."
    )


class ClientListOut(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ClientOut(many=True)


def _row_data(row: ClientRow, *, money: bool) -> dict:
    user = row.user
    data = {
        "id": user.pk,
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "registered_at": user.created_at,
        "last_active": row.last_active,
        "status": row.status,
        "status_label": row.status_label,
        "status_reason": row.reason,
        "status_until": row.status_until,
    }
    if money:
        data["balances"] = [
            {"amount": m.amount, "currency": m.currency, "formatted": m.format()}
            for m in row.balances
        ]
    return data


def _bounded(raw, *, name: str, default: int, low: int, high: int) -> int:
    if raw in (None, ""):
        return default
    text = str(raw)
    if not text.isdigit() or len(text) > 9 or not low <= int(text) <= high:
        message = _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        raise ValidationFailed({name: [message]})
    return int(text)


class ClientListApi(APIView):
    @extend_schema(
        operation_id="crm_clients_list",
        responses={
            200: ClientListOut,
            400: ErrorSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Not staff or a moderator."),
        },
        parameters=[
            OpenApiParameter("q", str, description="Name, email or phone in any format."),
            OpenApiParameter(
                "status",
                str,
                enum=list(STATUS_FILTERS),
                description="active (includes expiring), expiring (within 7 days), frozen, "
                "expired, never_paid (no payment received).",
            ),
            OpenApiParameter("course", int, description="Has or had access to this course."),
            OpenApiParameter("group", int, description="Is in this study group now."),
            OpenApiParameter("plan", int, description="Has bought this plan."),
            OpenApiParameter("registered_from", str, description="YYYY-MM-DD."),
            OpenApiParameter("registered_to", str, description="YYYY-MM-DD."),
            OpenApiParameter("active_from", str, description="Last active on or after."),
            OpenApiParameter("active_to", str, description="Last active on or before."),
            OpenApiParameter("sort", str, enum=list(SORTS), description="Default: name."),
            OpenApiParameter("limit", int, description=f"At most {MAX_LIMIT} (default 30)."),
            OpenApiParameter("offset", int),
        ],
        description="Every student with their status and its reason, filtered and sorted "
        "as on the CRM's clients page. Balances for staff only.",
    )
    def get(self, request):
        if not can_use_crm(request.user):
            raise PermissionDenied(_("Only staff and moderators see the clients."))
        params = request.query_params
        form = ClientFilterForm(params)
        if not form.is_valid():
            raise ValidationFailed({k: [str(e) for e in v] for k, v in form.errors.items()})
        limit = _bounded(
            params.get("limit"), name="limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT
        )
        offset = _bounded(params.get("offset"), name="offset", default=0, low=0, high=10**9)
        money = can_see_money(request.user)
        count, rows = clients.clients_slice(
            filters=form.filters(), offset=offset, limit=limit, money=money
        )

        def link(new_offset: int) -> str:
            query = params.copy()
            query["offset"] = str(new_offset)
            query["limit"] = str(limit)
            return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

        return Response(
            {
                "count": count,
                "next": link(offset + limit) if offset + limit < count else None,
                "previous": link(max(offset - limit, 0)) if offset > 0 else None,
                "results": [_row_data(row, money=money) for row in rows],
            }
        )
