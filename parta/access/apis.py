import contextlib
import functools
import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.access.selectors import access_check_by_id, is_staff_like
from parta.common.authentication import CachedTokenAuthentication
from parta.common.errors import ApplicationError, PermissionDenied


class JsonOnly(BaseContentNegotiation):
    """The access check always answers JSON; skipping negotiation saves time on a hot path."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return (renderers[0], renderers[0].media_type)


def access_answer(requester, *, course_id: int, user_id: int) -> dict:
    """The access check's answer for ``requester``; raises NotFound or PermissionDenied.
    Everything, staff targets included, comes from the cache after the first answer."""
    if requester.id != user_id and not is_staff_like(requester):
        raise PermissionDenied(_("You may only ask about your own access."))
    decision = access_check_by_id(user_id=user_id, course_id=course_id, verify=True)
    until = decision.until
    return {"allowed": decision.allowed, "until": until.isoformat() if until else None}


class AccessCheckApi(APIView):
    """The access check: a hot path. The token's user and the decision both come from
    the cache, so a repeated question costs no database query. A GET with a valid token
    is answered without DRF's request and response machinery (see ``as_view``);
    everything else (session auth, a bad token, an error) goes through this API view."""

    authentication_classes = [CachedTokenAuthentication, SessionAuthentication]
    renderer_classes = [JSONRenderer]
    parser_classes: list = []
    content_negotiation_class = JsonOnly

    @extend_schema_serializer(component_name="AccessCheckOutput")
    class OutputSerializer(serializers.Serializer):
        allowed = serializers.BooleanField()
        until = serializers.DateTimeField(allow_null=True, help_text="null: open-ended")

    @extend_schema(
        responses=OutputSerializer,
        operation_id="access_check",
        description=(
            "May this user study this course now, and until when? A service (a staff or "
            "moderator token) may ask about anyone; a student only about themselves. "
            "Answers are cached and dropped whenever the user's access changes."
        ),
    )
    def get(self, request, course_id: int, user_id: int):
        return Response(access_answer(request.user, course_id=course_id, user_id=user_id))

    @classmethod
    def as_view(cls, **initkwargs):
        api_view = super().as_view(**initkwargs)
        authenticator = CachedTokenAuthentication()

        def view(request, course_id: int, user_id: int):
            answer = None
            if request.method == "GET":
                user = authenticator.cached_user(request)
                if user is not None:
                    # On an error the API view answers, in the API's error shape.
                    with contextlib.suppress(ApplicationError):
                        answer = access_answer(user, course_id=course_id, user_id=user_id)
            if answer is None:
                return api_view(request, course_id=course_id, user_id=user_id)
            response = HttpResponse(
                json.dumps(answer, separators=(",", ":")), content_type="application/json"
            )
            # The headers the API view would send.
            response["Allow"] = "GET, HEAD, OPTIONS"
            response["Vary"] = "Accept"
            return response

        # Keep what URL resolvers, CSRF and the schema generator read off the view.
        return functools.wraps(api_view)(view)
