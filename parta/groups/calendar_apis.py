"""The caller's private calendar feed in the REST API: its address (made the first time it
is asked for) and a new one that replaces it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.groups.calendar_feeds import feed_get_or_create, feed_links, feed_rotate


class CalendarFeedOut(serializers.Serializer):
    url = serializers.CharField(help_text="The iCalendar feed; keep it private.")
    webcal_url = serializers.CharField(help_text="The same as webcal:// (Apple Calendar).")
    google_url = serializers.CharField(help_text="Google Calendar's page to subscribe.")
    created_at = serializers.DateTimeField(help_text="When this link was made.")


def _out(feed) -> dict:
    return CalendarFeedOut({**feed_links(feed), "created_at": feed.created_at}).data


class CalendarFeedApi(APIView):
    """GET: the caller's calendar feed address. POST: a new address; the old one answers
    404 from then on."""

    @extend_schema(responses=CalendarFeedOut, operation_id="calendar_feed_retrieve")
    def get(self, request):
        return Response(_out(feed_get_or_create(user=request.user)))

    @extend_schema(request=None, responses=CalendarFeedOut, operation_id="calendar_feed_rotate")
    def post(self, request):
        return Response(_out(feed_rotate(user=request.user)))
