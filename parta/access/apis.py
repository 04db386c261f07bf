from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.access.selectors import access_check_by_id, is_staff_like
from parta.accounts.models import User
from parta.catalog.models import Course
from parta.common.authentication import CachedTokenAuthentication
from parta.common.errors import NotFound, PermissionDenied


class JsonOnly(BaseContentNegotiation):
    """The access check always answers JSON; skipping negotiation saves time on a hot path."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return (renderers[0], renderers[0].media_type)


class AccessCheckApi(APIView):
    """May this user study this course now, and until when? Services (a staff or
    moderator token) ask about anyone; a student may ask only about themselves.

    A hot path: the token's user and the decision both come from the cache, so a
    repeated question costs no database query."""

    authentication_classes = [CachedTokenAuthentication, SessionAuthentication]
    renderer_classes = [JSONRenderer]
    parser_classes: list = []
    content_negotiation_class = JsonOnly

    @extend_schema_serializer(component_name="AccessCheckOutput")
    class OutputSerializer(serializers.Serializer):
        allowed = serializers.BooleanField()
        until = serializers.DateTimeField(allow_null=True, help_text="null: open-ended")

    @extend_schema(responses=OutputSerializer, operation_id="access_check")
    def get(self, request, course_id: int, user_id: int):
        requester = request.user
        if requester.id == user_id:
            target = requester
        elif is_staff_like(requester):
            target = User.objects.filter(pk=user_id).only("id", "role", "is_superuser").first()
            if target is None:
                raise NotFound(_("No such user."))
        else:
            raise PermissionDenied(_("You may only ask about your own access."))

        if is_staff_like(target):
            if not Course.objects.filter(pk=course_id).exists():
                raise NotFound(_("No such course."))
            allowed, until = True, None
        else:
            decision = access_check_by_id(
                user_id=target.id, course_id=course_id, verify_course=True
            )
            allowed, until = decision.allowed, decision.until
        return Response({"allowed": allowed, "until": until.isoformat() if until else None})
