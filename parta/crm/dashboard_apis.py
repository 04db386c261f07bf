"""The dashboard's figures over the API: staff get everything, moderators the learning
figures (``money`` is null for them), students 403."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.common.errors import PermissionDenied
from parta.crm.dashboard import dashboard_data, period_for
from parta.crm.permissions import can_see_money, can_use_crm


class DashboardRevenueOut(serializers.Serializer):
    currency = serializers.CharField()
    exponent = serializers.IntegerField(help_text="Minor units per major unit, as a power of 10.")
    sold = serializers.ListField(
        child=serializers.IntegerField(), help_text="Spent on purchases per day, minor units."
    )
    refunded = serializers.ListField(
        child=serializers.IntegerField(), help_text="Purchases refunded per day, minor units."
    )
    net = serializers.ListField(
        child=serializers.IntegerField(), help_text="Revenue per day net of refunds."
    )
    sold_total = serializers.IntegerField()
    refunded_total = serializers.IntegerField()
    net_total = serializers.IntegerField()


class DashboardCourseFillOut(serializers.Serializer):
    course_id = serializers.IntegerField()
    course = serializers.CharField()
    groups = serializers.IntegerField()
    members = serializers.IntegerField()
    seats = serializers.IntegerField()
    percent = serializers.IntegerField()


class DashboardMoneyOut(serializers.Serializer):
    revenue = DashboardRevenueOut(many=True)
    paying = serializers.IntegerField(help_text="Students with a purchase in the period.")
    expiring = inline_serializer(
        "DashboardExpiring",
        {
            "days": serializers.ListField(child=serializers.DateField()),
            "series": serializers.ListField(child=serializers.IntegerField()),
            "total": serializers.IntegerField(),
        },
        help_text="Grants that are on and end within the next 7 days, per day of their end.",
    )
    renewals = inline_serializer(
        "DashboardRenewals",
        {
            "ended": serializers.ListField(child=serializers.IntegerField()),
            "renewed": serializers.ListField(child=serializers.IntegerField()),
            "ended_total": serializers.IntegerField(),
            "renewed_total": serializers.IntegerField(),
            "percent": serializers.IntegerField(),
        },
        help_text="Paid grants that ended in the period, and those followed by a newer one.",
    )


class DashboardOut(serializers.Serializer):
    period = inline_serializer(
        "DashboardPeriod",
        {
            "start": serializers.DateField(),
            "end": serializers.DateField(),
            "days": serializers.IntegerField(),
        },
    )
    days = serializers.ListField(child=serializers.DateField(), help_text="The period's days.")
    registrations = inline_serializer(
        "DashboardRegistrations",
        {
            "series": serializers.ListField(child=serializers.IntegerField()),
            "total": serializers.IntegerField(),
        },
    )
    activity = inline_serializer(
        "DashboardActivity",
        {
            "solved": serializers.ListField(child=serializers.IntegerField()),
            "active": serializers.ListField(child=serializers.IntegerField()),
            "solved_total": serializers.IntegerField(),
            "active_total": serializers.IntegerField(),
        },
    )
    with_access = serializers.IntegerField(help_text="Students with access now.")
    group_fill = inline_serializer(
        "DashboardGroupFill",
        {
            "courses": DashboardCourseFillOut(many=True),
            "members": serializers.IntegerField(),
            "seats": serializers.IntegerField(),
            "percent": serializers.IntegerField(),
        },
    )
    money = DashboardMoneyOut(allow_null=True, help_text="Null for moderators.")


class DashboardApi(APIView):
    @extend_schema_serializer(component_name="DashboardInput")
    class InputSerializer(serializers.Serializer):
        start = serializers.CharField(
            required=False, allow_blank=True, help_text="First day, YYYY-MM-DD."
        )
        end = serializers.CharField(
            required=False, allow_blank=True, help_text="Last day, YYYY-MM-DD (included)."
        )
        preset = serializers.CharField(
            required=False, allow_blank=True, help_text="7, 30 or 90 (days to today); default 30."
        )

    @extend_schema(
        parameters=[InputSerializer],
        responses=DashboardOut,
        operation_id="crm_dashboard",
        description="The school's figures per day for a period (the last 7, 30 or 90 days, "
        "or `start`..`end`, at most a year), in the school's time zone. Money in minor "
        "units: revenue is what was spent on purchases net of refunds of purchases (top-ups "
        "count when spent). Staff only; moderators get the learning figures and "
        "`money: null`.",
    )
    def get(self, request):
        if not can_use_crm(request.user):
            raise PermissionDenied(_("Only staff and moderators see the dashboard."))
        body = self.InputSerializer(data=request.query_params)
        body.is_valid(raise_exception=True)
        period = period_for(**body.validated_data)
        return Response(
            dashboard_data(start=period.start, end=period.end, money=can_see_money(request.user))
        )
