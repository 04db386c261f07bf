"""The audit log and the live settings in the REST API: staff only (session or token),
the same filters and the same validation as the CRM's pages."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.audit.labels import action_label
from parta.audit.selectors import audit_list
from parta.common.errors import ValidationFailed
from parta.common.live import LIVE_SETTINGS
from parta.crm.audit_views import AuditFilterForm
from parta.crm.live_settings import live_settings_current, live_settings_update
from parta.crm.permissions import can_see_money


class StaffOnly(BasePermission):
    message = "Only staff see this."

    def has_permission(self, request, view) -> bool:
        if can_see_money(request.user):
            return True
        self.message = _("Only staff see this.")
        return False


class AuditEntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    actor_label = serializers.CharField(help_text="Who, as recorded (empty: the school).")
    actor_role = serializers.CharField()
    action = serializers.CharField(help_text='Dotted code, e.g. "catalog.course_update".')
    action_label = serializers.SerializerMethodField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    object_repr = serializers.CharField()
    subject = serializers.IntegerField(source="subject_id", allow_null=True)
    before = serializers.JSONField()
    after = serializers.JSONField()
    reason = serializers.CharField()
    ip = serializers.IPAddressField(allow_null=True)

    def get_action_label(self, entry) -> str:
        return action_label(entry.action)


class AuditPage(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


FILTERS = [
    OpenApiParameter("actor", OpenApiTypes.STR, description="Who acted: an email or an id."),
    OpenApiParameter(
        "action",
        OpenApiTypes.STR,
        description='An action ("catalog.course_update") or a prefix ending in a dot.',
    ),
    OpenApiParameter("object_type", OpenApiTypes.STR, description='e.g. "catalog.course".'),
    OpenApiParameter("object_id", OpenApiTypes.STR),
    OpenApiParameter("subject", OpenApiTypes.STR, description="The client: an email or an id."),
    OpenApiParameter(
        "date_from", OpenApiTypes.DATE, description="From this day (the school's time zone)."
    ),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="To this day, inclusive."),
]


class AuditListApi(APIView):
    """The audit log, newest first (staff only); bad filters answer 400 with the fields."""

    permission_classes = [StaffOnly]

    @extend_schema(
        parameters=FILTERS,
        responses=AuditEntryOut(many=True),
        operation_id="crm_audit_list",
    )
    def get(self, request):
        form = AuditFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationFailed({key: list(value) for key, value in form.errors.items()})
        paginator = AuditPage()
        page = paginator.paginate_queryset(
            audit_list(**form.selector_arguments()), request, view=self
        )
        return paginator.get_paginated_response(AuditEntryOut(page, many=True).data)


def _settings_fields() -> dict:
    fields = {}
    for name, spec in LIVE_SETTINGS.items():
        if spec.kind is int:
            fields[name] = serializers.IntegerField(required=False)
        else:
            fields[name] = serializers.CharField(required=False, allow_blank=True)
    return fields


LiveSettingsOut = type("LiveSettingsOut", (serializers.Serializer,), _settings_fields())
LiveSettingsIn = type(
    "LiveSettingsIn",
    (serializers.Serializer,),
    {
        **_settings_fields(),
        "reason": serializers.CharField(help_text="Why: kept in the audit log."),
    },
)


class LiveSettingsApi(APIView):
    """The school's live settings (staff only). PATCH changes the ones given, with a
    reason; the change is audited and applies at once."""

    permission_classes = [StaffOnly]

    @extend_schema(responses=LiveSettingsOut, operation_id="crm_settings_get")
    def get(self, request):
        return Response(live_settings_current())

    @extend_schema(
        request=LiveSettingsIn, responses=LiveSettingsOut, operation_id="crm_settings_update"
    )
    def patch(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        values = {key: value for key, value in data.items() if key != "reason"}
        live_settings_update(actor=request.user, values=values, reason=data.get("reason", ""))
        return Response(live_settings_current())
