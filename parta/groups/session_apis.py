"""Live sessions in the REST API: a person's own sessions and their answer; for
moderators and staff a course's sessions (plan one), one session (change or move it,
cancel it), its responses and the attendance (the teacher too)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.accounts.models import User
from parta.catalog.models import Course
from parta.common.errors import NotFound, PermissionDenied
from parta.groups import session_selectors
from parta.groups.models import Group, Invitation, LiveSession
from parta.groups.services import may_manage_groups
from parta.groups.sessions import (
    attendance_mark,
    invitation_respond,
    may_see_session,
    session_cancel,
    session_create,
    session_update,
)

ID_MAX = 2**63 - 1


class _PersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class SessionOut(serializers.Serializer):
    id = serializers.IntegerField()
    course = serializers.IntegerField(source="course_id")
    course_title = serializers.CharField(source="course.title")
    teacher = _PersonOut(allow_null=True)
    starts_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    meeting_url = serializers.CharField()
    description = serializers.CharField()
    cancelled_at = serializers.DateTimeField(allow_null=True)


class MySessionOut(serializers.Serializer):
    invitation = serializers.IntegerField(source="pk")
    response = serializers.CharField(help_text="none, accepted or declined.")
    attended = serializers.BooleanField(allow_null=True)
    session = SessionOut()


class InvitationOut(serializers.Serializer):
    id = serializers.IntegerField()
    user = _PersonOut()
    response = serializers.CharField()
    responded_at = serializers.DateTimeField(allow_null=True)
    attended = serializers.BooleanField(allow_null=True)


class AnswerOut(serializers.Serializer):
    invitation = serializers.IntegerField()
    response = serializers.CharField()
    changed = serializers.BooleanField(help_text="false: it already had this answer.")
    detail = serializers.CharField()


@extend_schema_serializer(component_name="LiveSessionInput")
class SessionIn(serializers.Serializer):
    groups = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        help_text="Group ids of the course; empty or absent: the whole course.",
    )
    teacher = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=ID_MAX
    )
    starts_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField(min_value=1, max_value=12 * 60)
    meeting_url = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Empty: a Jitsi room."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)


def _teacher(pk) -> User | None:
    if pk is None:
        return None
    teacher = User.objects.filter(pk=pk).first()
    if teacher is None:
        raise NotFound(_("No such teacher."))
    return teacher


def _manager_only(user) -> None:
    if not may_manage_groups(user):
        raise PermissionDenied(_("Only moderators and staff manage live sessions."))


def _session(pk: int) -> LiveSession:
    session = LiveSession.objects.select_related("course", "teacher").filter(pk=pk).first()
    if session is None:
        raise NotFound(_("No such session."))
    return session


def _session_for(user, pk: int) -> LiveSession:
    session = _session(pk)
    if not may_see_session(user=user, session=session):
        raise NotFound(_("No such session."))
    return session


class MySessionsApi(APIView):
    """The caller's invitations, upcoming soonest first then past latest first."""

    @extend_schema(responses=MySessionOut(many=True), operation_id="sessions_mine")
    def get(self, request):
        upcoming, past = session_selectors.sessions_of(user=request.user)
        return Response(MySessionOut([*upcoming, *past], many=True).data)


class MyAnswerApi(APIView):
    """Accept or decline one of the caller's invitations (the same answer twice changes
    nothing; another person's invitation 403; a cancelled session 409)."""

    @extend_schema_serializer(component_name="InvitationAnswerInput")
    class InputSerializer(serializers.Serializer):
        response = serializers.ChoiceField(choices=["accepted", "declined"])

    @extend_schema(request=InputSerializer, responses=AnswerOut, operation_id="invitation_answer")
    def post(self, request, pk: int):
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answered = invitation_respond(
            user=request.user, invitation_id=pk, response=body.validated_data["response"]
        )
        return Response(
            AnswerOut(
                {
                    "invitation": answered.invitation.pk,
                    "response": answered.invitation.response,
                    "changed": answered.changed,
                    "detail": answered.message(),
                }
            ).data
        )


class CourseSessionsApi(APIView):
    """A course's sessions, latest first (moderators and staff); POST plans one and
    invites the members."""

    @extend_schema(responses=SessionOut(many=True), operation_id="course_sessions_list")
    def get(self, request, course_id: int):
        _manager_only(request.user)
        course = get_object_or_404(Course, pk=course_id)
        sessions = session_selectors.course_sessions(course=course)
        for session in sessions:
            session.course = course
        return Response(SessionOut(sessions, many=True).data)

    @extend_schema(
        request=SessionIn, responses={201: SessionOut}, operation_id="course_sessions_create"
    )
    def post(self, request, course_id: int):
        _manager_only(request.user)
        course = get_object_or_404(Course, pk=course_id)
        body = SessionIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        group_ids = set(data.get("groups") or [])
        groups = list(Group.objects.filter(pk__in=group_ids))
        if len(groups) != len(group_ids):
            raise NotFound(_("No such group."))
        session = session_create(
            actor=request.user,
            course=course,
            groups=groups,
            teacher=_teacher(data.get("teacher")),
            starts_at=data["starts_at"],
            duration_minutes=data["duration_minutes"],
            meeting_url=data.get("meeting_url", ""),
            description=data.get("description", ""),
        )
        return Response(SessionOut(_session(session.pk)).data, status=201)


class SessionApi(APIView):
    """One session (moderators and staff, and its teacher to read); PATCH changes or
    moves it (a new time tells every member)."""

    @extend_schema_serializer(component_name="LiveSessionChangeInput")
    class InputSerializer(serializers.Serializer):
        teacher = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=ID_MAX
        )
        starts_at = serializers.DateTimeField(required=False)
        duration_minutes = serializers.IntegerField(required=False, min_value=1, max_value=720)
        meeting_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
        description = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    @extend_schema(responses=SessionOut, operation_id="session_retrieve")
    def get(self, request, pk: int):
        return Response(SessionOut(_session_for(request.user, pk)).data)

    @extend_schema(request=InputSerializer, responses=SessionOut, operation_id="session_update")
    def patch(self, request, pk: int):
        _manager_only(request.user)
        session = _session(pk)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        session_update(
            actor=request.user,
            session=session,
            starts_at=data.get("starts_at", session.starts_at),
            duration_minutes=data.get("duration_minutes", session.duration_minutes),
            meeting_url=data.get("meeting_url"),
            description=data.get("description"),
            teacher=_teacher(data["teacher"]) if data.get("teacher") else None,
        )
        return Response(SessionOut(_session(pk)).data)


class SessionCancelApi(APIView):
    """Cancel the session and tell every member (moderators and staff); twice: 409."""

    @extend_schema(request=None, responses=SessionOut, operation_id="session_cancel")
    def post(self, request, pk: int):
        _manager_only(request.user)
        session_cancel(actor=request.user, session=_session(pk))
        return Response(SessionOut(_session(pk)).data)


class SessionResponsesApi(APIView):
    """Who was invited, their answer and attendance (teacher, moderators, staff); POST
    marks attendance after the start."""

    @extend_schema_serializer(component_name="AttendanceInput")
    class InputSerializer(serializers.Serializer):
        class Mark(serializers.Serializer):
            invitation = serializers.IntegerField(min_value=1, max_value=ID_MAX)
            attended = serializers.BooleanField()

        marks = Mark(many=True)

    @extend_schema(responses=InvitationOut(many=True), operation_id="session_responses")
    def get(self, request, pk: int):
        session = _session_for(request.user, pk)
        grouped = session_selectors.session_responses(session=session)
        invitations: list[Invitation] = [i for rows in grouped.values() for i in rows]
        return Response(InvitationOut(invitations, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses=InvitationOut(many=True),
        operation_id="session_attendance",
    )
    def post(self, request, pk: int):
        session = _session_for(request.user, pk)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marks = {m["invitation"]: m["attended"] for m in body.validated_data["marks"]}
        attendance_mark(actor=request.user, session=session, attended=marks)
        grouped = session_selectors.session_responses(session=session)
        invitations = [i for rows in grouped.values() for i in rows]
        return Response(InvitationOut(invitations, many=True).data)
