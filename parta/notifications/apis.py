"""Notifications API under /api/v1/notifications/: the bell's messages (list, mark one
or all read) and the person's preferences (get, patch). Errors share the API's shape."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.notifications.bell import notification_mark_all_read, notification_mark_read
from parta.notifications.channels.base import Channel
from parta.notifications.preferences import preferences_for, preferences_update
from parta.notifications.selectors import bell_items, site_messages, unread_count


class NotificationOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    subject = serializers.CharField()
    text = serializers.CharField()
    path = serializers.CharField(help_text="Where on the site it leads (may be empty).")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    unread = serializers.BooleanField()


class NotificationPage(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100


class NotificationListApi(APIView):
    class ListOut(serializers.Serializer):
        count = serializers.IntegerField()
        unread = serializers.IntegerField(help_text="Unread messages in all (the bell).")
        next = serializers.CharField(allow_null=True)
        previous = serializers.CharField(allow_null=True)
        results = NotificationOut(many=True)

    @extend_schema(
        responses=ListOut,
        operation_id="notifications_list",
        parameters=[
            OpenApiParameter("limit", int, description="At most 100 (default 20)."),
            OpenApiParameter("offset", int),
        ],
        description="The in-site notifications delivered to you, newest first.",
    )
    def get(self, request):
        paginator = NotificationPage()
        page = paginator.paginate_queryset(site_messages(user=request.user), request, view=self)
        items = bell_items(user=request.user, messages=page)
        return Response(
            {
                "count": paginator.count,
                "unread": unread_count(user=request.user),
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": NotificationOut(
                    [{**item.__dict__, "unread": item.unread} for item in items], many=True
                ).data,
            }
        )


class NotificationReadApi(APIView):
    @extend_schema(
        request=None,
        responses={204: None},
        operation_id="notifications_read",
        description="Mark one of your notifications read (someone else's: 404).",
    )
    def post(self, request, pk: int):
        notification_mark_read(user=request.user, message_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationReadAllApi(APIView):
    class Out(serializers.Serializer):
        marked = serializers.IntegerField()

    @extend_schema(
        request=None,
        responses=Out,
        operation_id="notifications_read_all",
        description="Mark all your notifications read.",
    )
    def post(self, request):
        return Response({"marked": notification_mark_all_read(user=request.user)})


class ChannelChoiceOut(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    available = serializers.BooleanField(help_text="False: this kind is never sent there.")
    enabled = serializers.BooleanField()
    locked = serializers.BooleanField(help_text="True: mandatory, always on.")


class KindPreferencesOut(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    mandatory = serializers.BooleanField()
    channels = ChannelChoiceOut(many=True)


@extend_schema_serializer(component_name="NotificationPreferenceChange")
class PreferenceChangeIn(serializers.Serializer):
    kind = serializers.CharField(max_length=64)
    channel = serializers.ChoiceField(choices=Channel.choices)
    enabled = serializers.BooleanField()


class PreferencesApi(APIView):
    @extend_schema_serializer(component_name="NotificationPreferencesPatch")
    class PatchIn(serializers.Serializer):
        preferences = PreferenceChangeIn(many=True, allow_empty=False, max_length=100)

    @extend_schema(
        responses=KindPreferencesOut(many=True),
        operation_id="notifications_preferences_get",
        description="Every kind of notification and, per channel, whether it reaches you.",
    )
    def get(self, request):
        return Response(KindPreferencesOut(preferences_for(user=request.user), many=True).data)

    @extend_schema(
        request=PatchIn,
        responses=KindPreferencesOut(many=True),
        operation_id="notifications_preferences_patch",
        description="Switch kinds on or off per channel; all the changes or none. "
        "Mandatory kinds (receipts) cannot be switched off (400).",
    )
    def patch(self, request):
        body = self.PatchIn(data=request.data)
        body.is_valid(raise_exception=True)
        preferences_update(
            user=request.user,
            changes=[
                (c["kind"], c["channel"], c["enabled"]) for c in body.validated_data["preferences"]
            ],
        )
        return Response(KindPreferencesOut(preferences_for(user=request.user), many=True).data)
