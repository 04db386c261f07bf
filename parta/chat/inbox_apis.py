"""The moderators' inbox in the REST API: the list of threads with filters, take and
assign, private notes (list, add), close and reopen. Moderators and staff only: anyone else
gets 403 whatever the thread (no hint whether it exists). A thread's messages and replies
go through the chat API (``/api/v1/chat/threads/<id>/messages/``)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.catalog.workspace import can_use_workspace
from parta.chat import inbox
from parta.chat.inbox import InboxShow
from parta.chat.models import TEXT_MAX_LENGTH, Thread, ThreadKind, ThreadNote
from parta.chat.selectors import thread_for_viewer
from parta.common.errors import NotFound, PermissionDenied, ValidationFailed
from parta.common.schema import ErrorSerializer
from parta.common.serializers import IdField

NOT_SCHOOL = OpenApiResponse(ErrorSerializer, description="You are not a moderator or staff.")
TAKEN = OpenApiResponse(
    ErrorSerializer,
    description="Another moderator has taken the thread (`assignee` is their id).",
)


def _school_only(request) -> None:
    if not (request.user.is_active and can_use_workspace(request.user)):
        raise PermissionDenied(_("Only moderators and staff work in the inbox."))


def _thread(request, pk: int) -> Thread:
    _school_only(request)
    thread = thread_for_viewer(user=request.user, thread_id=pk)
    if thread is None:
        raise NotFound(_("No such thread."))
    return thread


# --- Output ---------------------------------------------------------------------------------


class InboxPersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class InboxStudentOut(InboxPersonOut):
    email = serializers.EmailField()


class InboxCourseOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class InboxThreadOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ThreadKind.values)
    subject = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["awaiting_moderator", "awaiting_student", "closed"],
        help_text="Follows who wrote last; a new message reopens a closed thread.",
    )
    student = InboxStudentOut()
    task = serializers.IntegerField(allow_null=True, help_text="The task's id (task threads).")
    course = InboxCourseOut(allow_null=True)
    assignee = InboxPersonOut(allow_null=True, help_text="The moderator the thread is with.")
    created_at = serializers.DateTimeField()
    waiting_since = serializers.DateTimeField(
        allow_null=True, help_text="Since when the student has waited for a reply."
    )
    last_message_at = serializers.DateTimeField(allow_null=True)
    last_student_message_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    solved_at = serializers.DateTimeField(allow_null=True)
    unread = serializers.BooleanField(help_text="The student wrote since you last looked.")
    url = serializers.CharField(help_text="The thread's page in the inbox.")


def _person(user, *, email: bool = False) -> dict | None:
    if user is None:
        return None
    data = {"id": user.pk, "name": user.full_name}
    if email:
        data["email"] = user.email
    return data


def _thread_data(thread: Thread, *, unread: bool) -> dict:
    return {
        "id": thread.pk,
        "kind": thread.kind,
        "subject": thread.subject,
        "state": thread.state,
        "student": _person(thread.student, email=True),
        "task": thread.task_id,
        "course": {"id": thread.course.pk, "title": thread.course.title}
        if thread.course_id and thread.course
        else None,
        "assignee": _person(thread.assignee) if thread.assignee_id else None,
        "created_at": thread.created_at,
        "waiting_since": thread.waiting_since,
        "last_message_at": thread.last_message_at,
        "last_student_message_at": thread.last_student_message_at,
        "closed_at": thread.closed_at,
        "solved_at": thread.solved_at,
        "unread": unread,
        "url": reverse("inbox:thread", args=[thread.pk]),
    }


def _thread_response(request, thread: Thread) -> Response:
    """The thread after a write, with its unread mark for the caller."""
    row = inbox.inbox_threads(viewer=request.user).get(pk=thread.pk)
    return Response(InboxThreadOut(_thread_data(row, unread=row.unread)).data)


class InboxNoteOut(serializers.Serializer):
    id = serializers.IntegerField()
    thread = serializers.IntegerField()
    author = InboxPersonOut(allow_null=True, help_text="Null for a deleted account.")
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


def _note_data(note: ThreadNote) -> dict:
    return {
        "id": note.pk,
        "thread": note.thread_id,
        "author": _person(note.author),
        "text": note.text,
        "created_at": note.created_at,
    }


# --- The list -------------------------------------------------------------------------------


class InboxPage(LimitOffsetPagination):
    default_limit = 30
    max_limit = 100


class InboxThreadListApi(APIView):
    class InboxThreadListOut(serializers.Serializer):
        count = serializers.IntegerField()
        awaiting = serializers.IntegerField(
            help_text="Threads awaiting a reply that are nobody's or yours (the header's number)."
        )
        next = serializers.CharField(allow_null=True)
        previous = serializers.CharField(allow_null=True)
        results = InboxThreadOut(many=True)

    @extend_schema(
        responses={200: InboxThreadListOut, 400: ErrorSerializer, 403: NOT_SCHOOL},
        operation_id="inbox_threads_list",
        parameters=[
            OpenApiParameter(
                "show",
                str,
                enum=list(InboxShow.values),
                description="all (default); waiting: the student awaits a reply; mine: "
                "assigned to you; unassigned: open and nobody's; closed.",
            ),
            OpenApiParameter("kind", str, enum=list(ThreadKind.values)),
            OpenApiParameter("course", int, description="Only threads about this course."),
            OpenApiParameter("limit", int, description="At most 100 (default 30)."),
            OpenApiParameter("offset", int),
        ],
        description="Every thread, filtered: those whose student waits first (the longest "
        "wait on top), then the rest by their last message, each with `unread` for you.",
    )
    def get(self, request):
        _school_only(request)
        params = request.query_params
        filters = inbox.inbox_filters_parse(
            show=params.get("show"), kind=params.get("kind"), course=params.get("course")
        )
        paginator = InboxPage()
        page = paginator.paginate_queryset(
            inbox.inbox_threads(viewer=request.user, filters=filters), request, view=self
        )
        return Response(
            {
                "count": paginator.count,
                "awaiting": inbox.inbox_count(user=request.user),
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": InboxThreadOut(
                    [_thread_data(t, unread=t.unread) for t in page], many=True
                ).data,
            }
        )


# --- Take and assign ------------------------------------------------------------------------


class InboxTakeApi(APIView):
    @extend_schema(
        request=None,
        responses={200: InboxThreadOut, 403: NOT_SCHOOL, 404: ErrorSerializer, 409: TAKEN},
        operation_id="inbox_thread_take",
        description="Take the thread (assign it to yourself). Refused (409) when another "
        "moderator took it first; taking your own thread again changes nothing.",
    )
    def post(self, request, pk: int):
        thread = _thread(request, pk)
        inbox.thread_take(thread=thread, moderator=request.user)
        return _thread_response(request, thread)


class InboxAssignApi(APIView):
    @extend_schema_serializer(component_name="InboxAssignInput")
    class InputSerializer(serializers.Serializer):
        assignee = IdField(
            allow_null=True,
            help_text="A moderator's or staff member's user id; null: nobody.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={200: InboxThreadOut, 400: ErrorSerializer, 403: NOT_SCHOOL},
        operation_id="inbox_thread_assign",
        description="Hand the thread to a moderator or staff member (or to nobody). "
        "Anyone else is refused (400).",
    )
    def post(self, request, pk: int):
        thread = _thread(request, pk)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignee = None
        if body.validated_data["assignee"] is not None:
            assignee = get_user_model().objects.filter(pk=body.validated_data["assignee"]).first()
            if assignee is None:
                raise ValidationFailed({"assignee": [_("No such user.")]})
        inbox.thread_assign(thread=thread, assignee=assignee, by=request.user)
        return _thread_response(request, thread)


# --- Notes ----------------------------------------------------------------------------------


class InboxNotesApi(APIView):
    class InboxNoteListOut(serializers.Serializer):
        results = InboxNoteOut(many=True)

    @extend_schema_serializer(component_name="InboxNoteInput")
    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(
            max_length=TEXT_MAX_LENGTH,
            trim_whitespace=False,
            help_text="Up to 4,000 characters; never shown to the student.",
        )

    @extend_schema(
        responses={200: InboxNoteListOut, 403: NOT_SCHOOL, 404: ErrorSerializer},
        operation_id="inbox_notes_list",
        description="The thread's private notes, oldest first (moderators and staff only).",
    )
    def get(self, request, pk: int):
        thread = _thread(request, pk)
        notes = inbox.thread_notes(thread=thread)
        return Response({"results": InboxNoteOut([_note_data(n) for n in notes], many=True).data})

    @extend_schema(
        request=InputSerializer,
        responses={201: InboxNoteOut, 400: ErrorSerializer, 403: NOT_SCHOOL},
        operation_id="inbox_note_add",
        description="Add a private note to the thread: the student never sees it.",
    )
    def post(self, request, pk: int):
        thread = _thread(request, pk)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = inbox.thread_note_add(
            thread=thread, author=request.user, text=body.validated_data["text"]
        )
        note.author = request.user
        return Response(InboxNoteOut(_note_data(note)).data, status=status.HTTP_201_CREATED)


# --- Close and reopen -----------------------------------------------------------------------


class InboxCloseApi(APIView):
    @extend_schema(
        request=None,
        responses={200: InboxThreadOut, 403: NOT_SCHOOL, 409: ErrorSerializer},
        operation_id="inbox_thread_close",
        description="Close the thread (a new message from either side opens it again); "
        "409 when it is closed already.",
    )
    def post(self, request, pk: int):
        thread = _thread(request, pk)
        inbox.thread_close(thread=thread, by=request.user)
        return _thread_response(request, thread)


class InboxReopenApi(APIView):
    @extend_schema(
        request=None,
        responses={200: InboxThreadOut, 403: NOT_SCHOOL, 409: ErrorSerializer},
        operation_id="inbox_thread_reopen",
        description="Open a closed thread again, in the state its last message gives; "
        "409 when it is open.",
    )
    def post(self, request, pk: int):
        thread = _thread(request, pk)
        inbox.thread_reopen(thread=thread, by=request.user)
        return _thread_response(request, thread)
