"""Chat in the REST API, for the current user: their threads (list), opening a task or a
support thread, a thread's messages (list, post) and marking it read. Moderators and staff
may read and answer any thread here too (the inbox's own API lists and assigns them)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.access.selectors import is_staff_like
from parta.catalog.models import Course, Task
from parta.chat import selectors, services
from parta.chat.models import ChatMessage, MessageSource, Thread
from parta.chat.templatetags.chat import attachment_url, system_line
from parta.common.converters import MAX_ID
from parta.common.errors import NotFound, ValidationFailed
from parta.common.schema import ErrorSerializer
from parta.common.serializers import IdField

CLIENT_KEY_PATTERN = r"^[ -~]{1,64}$"
MESSAGES_LIMIT = 100
MESSAGES_MAX_LIMIT = 200


def _client_key_field():
    return serializers.RegexField(
        CLIENT_KEY_PATTERN,
        required=False,
        max_length=64,
        min_length=1,
        trim_whitespace=False,
        help_text="Any string of 1-64 printable ASCII characters you choose per message "
        "(a UUID does): resending the same key returns the message stored the first time "
        "(200, `replayed`), and stores nothing new.",
        error_messages={
            "invalid": _lazy(
                "client_key must be 1-64 printable ASCII characters "
                "(letters, digits, punctuation or spaces), for example a UUID."
            ),
            "max_length": _lazy("client_key must be at most 64 characters."),
            "min_length": _lazy("client_key must not be empty."),
            "blank": _lazy("client_key must not be empty."),
            "null": _lazy("client_key must not be empty."),
        },
    )


def _text_field():
    return serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The message as typed, up to 4,000 characters; shown escaped, with web "
        "links made clickable. May be empty when a file is attached.",
    )


def _attachment_field():
    return serializers.FileField(
        required=False,
        help_text="An image (JPEG, PNG, WebP) or a PDF, up to 10 MB, checked by its content "
        "(multipart requests only).",
    )


RATE_LIMITED = OpenApiResponse(
    ErrorSerializer,
    description="More than 20 messages a minute: nothing was stored; `retry_after` says "
    "how many seconds to wait.",
)


# --- Output ---------------------------------------------------------------------------------


class ChatTaskRef(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    course_slug = serializers.CharField()


class ChatCourseRef(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class ChatThreadOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="task or support.")
    subject = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["awaiting_moderator", "awaiting_student", "closed"],
        help_text="Follows who wrote last; a new message reopens a closed thread.",
    )
    task = ChatTaskRef(allow_null=True, help_text="Null for support, or a task since deleted.")
    course = ChatCourseRef(allow_null=True)
    created_at = serializers.DateTimeField()
    last_message_at = serializers.DateTimeField(allow_null=True)
    waiting_since = serializers.DateTimeField(
        allow_null=True, help_text="Since when the student has waited for an answer."
    )
    solved_at = serializers.DateTimeField(
        allow_null=True, help_text="When the student solved the task after asking."
    )
    unread = serializers.BooleanField(help_text="The school wrote since you last looked.")
    url = serializers.CharField(help_text="The thread's page on the site.")


class ChatAttemptOut(serializers.Serializer):
    answer = serializers.CharField()
    correct = serializers.BooleanField()
    at = serializers.DateTimeField()


class ChatAttemptsOut(serializers.Serializer):
    total = serializers.IntegerField()
    wrong = serializers.IntegerField()
    solved_at = serializers.DateTimeField(allow_null=True)
    items = ChatAttemptOut(many=True, help_text="The newest 50, oldest first.")


class ChatThreadDetailOut(ChatThreadOut):
    attempts = ChatAttemptsOut(
        allow_null=True, help_text="The student's answers to the task (task threads)."
    )


class ChatThreadOpenOut(ChatThreadOut):
    opened = serializers.BooleanField(help_text="Made by this request (201) or already there.")


class ChatAuthorOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ChatAttachmentOut(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.CharField(help_text="A short-lived signed link.")


class ChatMessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    thread = serializers.IntegerField()
    author = ChatAuthorOut(allow_null=True, help_text="Null for Parta's own lines.")
    from_school = serializers.BooleanField(help_text="Written by a moderator or staff.")
    mine = serializers.BooleanField()
    system = serializers.BooleanField(help_text="A line from Parta (the task was solved).")
    text = serializers.CharField(help_text="As typed (Parta's lines: in your language).")
    attachment = ChatAttachmentOut(allow_null=True)
    source = serializers.ChoiceField(choices=MessageSource.values)
    created_at = serializers.DateTimeField()


class ChatMessagePostOut(ChatMessageOut):
    replayed = serializers.BooleanField(help_text="The client_key had been used: no new message.")


def _thread_data(thread: Thread, *, unread: bool | None = None) -> dict:
    task = thread.task
    return {
        "id": thread.pk,
        "kind": thread.kind,
        "subject": thread.subject,
        "state": thread.state,
        "task": {"id": task.pk, "title": task.title, "course_slug": task.topic.course.slug}
        if task is not None
        else None,
        "course": {"id": thread.course.pk, "title": thread.course.title}
        if thread.course_id and thread.course
        else None,
        "created_at": thread.created_at,
        "last_message_at": thread.last_message_at,
        "waiting_since": thread.waiting_since,
        "solved_at": thread.solved_at,
        "unread": bool(getattr(thread, "unread", False) if unread is None else unread),
        "url": reverse("chat:thread", args=[thread.pk]),
    }


def _message_data(message: ChatMessage, *, viewer) -> dict:
    system = message.source == MessageSource.SYSTEM
    author = message.author
    url = attachment_url(message)
    return {
        "id": message.pk,
        "thread": message.thread_id,
        "author": {"id": author.pk, "name": author.full_name} if author is not None else None,
        "from_school": message.from_staff,
        "mine": author is not None and author.pk == viewer.pk,
        "system": system,
        "text": system_line(message, viewer) if system else message.text,
        "attachment": {"name": message.attachment_name, "url": url} if url else None,
        "source": message.source,
        "created_at": message.created_at,
    }


def _thread_or_404(request, pk: int) -> Thread:
    thread = selectors.thread_for_viewer(user=request.user, thread_id=pk)
    if thread is None:
        raise NotFound(_("No such thread."))
    return thread


def _unread_for(thread: Thread, user) -> bool:
    if thread.last_staff_message_at is None or user.pk != thread.student_id:
        return False
    seen = selectors.seen_at(thread=thread, user=user)
    return seen is None or thread.last_staff_message_at > seen


# --- Threads --------------------------------------------------------------------------------


class ThreadPage(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100


class ThreadListApi(APIView):
    class ChatThreadListOut(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.CharField(allow_null=True)
        previous = serializers.CharField(allow_null=True)
        results = ChatThreadOut(many=True)

    @extend_schema(
        responses=ChatThreadListOut,
        operation_id="chat_threads_list",
        parameters=[
            OpenApiParameter("limit", int, description="At most 100 (default 20)."),
            OpenApiParameter("offset", int),
        ],
        description="Your threads (questions about tasks and to support), the latest "
        "conversation first, with `unread` when the school wrote since you last looked.",
    )
    def get(self, request):
        paginator = ThreadPage()
        page = paginator.paginate_queryset(
            selectors.student_threads(user=request.user), request, view=self
        )
        return Response(
            {
                "count": paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": ChatThreadOut([_thread_data(t) for t in page], many=True).data,
            }
        )


def _open_response(thread: Thread) -> Response:
    """201 when the service made the thread (it sets ``opened``), else 200."""
    opened = bool(getattr(thread, "opened", False))
    thread = Thread.objects.select_related("task__topic__course", "course").get(pk=thread.pk)
    data = {**_thread_data(thread, unread=False), "opened": opened}
    return Response(
        ChatThreadOpenOut(data).data,
        status=status.HTTP_201_CREATED if opened else status.HTTP_200_OK,
    )


class TaskThreadOpenApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="ChatTaskThreadInput")
    class InputSerializer(serializers.Serializer):
        task = IdField()
        text = _text_field()
        attachment = _attachment_field()
        client_key = _client_key_field()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: ChatThreadOpenOut,
            200: ChatThreadOpenOut,
            403: OpenApiResponse(
                ErrorSerializer,
                description="Not yet: `answers_left` more wrong answers to the task are "
                "needed; or no access to the course.",
            ),
            429: RATE_LIMITED,
        },
        operation_id="chat_task_thread_open",
        description="Ask the moderators about a task (after N wrong answers to it, 3 by "
        "default). Your one thread about the task: made now (201) or the one you had, "
        "reopened (200), with the text as your new message.",
    )
    def post(self, request):
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        task = Task.objects.select_related("topic__course").filter(pk=data["task"]).first()
        if task is None or (
            not task.topic.course.is_published and not is_staff_like(request.user)
        ):
            raise NotFound(_("No such task."))
        thread = services.task_thread_open(
            student=request.user,
            task=task,
            text=data.get("text", ""),
            attachment=data.get("attachment"),
            client_key=data.get("client_key"),
        )
        return _open_response(thread)


class SupportThreadOpenApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="ChatSupportThreadInput")
    class InputSerializer(serializers.Serializer):
        text = _text_field()
        course = IdField(required=False, allow_null=True, help_text="What it is about (optional).")
        attachment = _attachment_field()
        client_key = _client_key_field()

    @extend_schema(
        request=InputSerializer,
        responses={201: ChatThreadOpenOut, 200: ChatThreadOpenOut, 429: RATE_LIMITED},
        operation_id="chat_support_thread_open",
        description="A new question to the school's support; the same client_key again "
        "returns the thread it opened (200).",
    )
    def post(self, request):
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        course = None
        if data.get("course") is not None:
            courses = Course.objects.all()
            if not is_staff_like(request.user):
                courses = courses.filter(is_published=True)
            course = courses.filter(pk=data["course"]).first()
            if course is None:
                raise ValidationFailed({"course": [_("No such course.")]})
        thread = services.support_thread_open(
            student=request.user,
            text=data.get("text", ""),
            course=course,
            attachment=data.get("attachment"),
            client_key=data.get("client_key"),
        )
        return _open_response(thread)


class ThreadDetailApi(APIView):
    @extend_schema(
        responses=ChatThreadDetailOut,
        operation_id="chat_thread_retrieve",
        description="One of your threads (a moderator: any), with the student's attempts "
        "on a task thread.",
    )
    def get(self, request, pk: int):
        thread = _thread_or_404(request, pk)
        attempts = selectors.task_attempts(thread=thread)
        data = {
            **_thread_data(thread, unread=_unread_for(thread, request.user)),
            "attempts": {
                "total": attempts.total,
                "wrong": attempts.wrong,
                "solved_at": attempts.solved_at,
                "items": [
                    {"answer": a.answer, "correct": a.correct, "at": a.at} for a in attempts.items
                ],
            }
            if attempts is not None
            else None,
        }
        return Response(ChatThreadDetailOut(data).data)


# --- Messages -------------------------------------------------------------------------------


class ThreadMessagesApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class ChatMessageListOut(serializers.Serializer):
        results = ChatMessageOut(many=True)
        more = serializers.BooleanField(help_text="More messages follow: ask again with after.")

    @extend_schema_serializer(component_name="ChatMessageInput")
    class InputSerializer(serializers.Serializer):
        text = _text_field()
        attachment = _attachment_field()
        client_key = _client_key_field()

    @extend_schema(
        responses=ChatMessageListOut,
        operation_id="chat_messages_list",
        parameters=[
            OpenApiParameter("after", int, description="Only messages with a larger id."),
            OpenApiParameter("limit", int, description="At most 200 (default 100)."),
        ],
        description="The thread's messages, oldest first.",
    )
    def get(self, request, pk: int):
        thread = _thread_or_404(request, pk)
        after = _bounded(request.query_params.get("after"), "after", 0, MAX_ID, 0)
        limit = _bounded(
            request.query_params.get("limit"), "limit", 1, MESSAGES_MAX_LIMIT, MESSAGES_LIMIT
        )
        rows = list(selectors.thread_messages(thread=thread, after_id=after)[: limit + 1])
        return Response(
            {
                "results": ChatMessageOut(
                    [_message_data(m, viewer=request.user) for m in rows[:limit]], many=True
                ).data,
                "more": len(rows) > limit,
            }
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: ChatMessagePostOut, 200: ChatMessagePostOut, 429: RATE_LIMITED},
        operation_id="chat_message_post",
        description="Write in the thread (text, a file, or both). A student's message makes "
        "the thread wait for a moderator, a moderator's for the student; a closed thread "
        "reopens.",
    )
    def post(self, request, pk: int):
        thread = _thread_or_404(request, pk)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        message = services.message_post(
            thread=thread,
            author=request.user,
            text=data.get("text", ""),
            attachment=data.get("attachment"),
            source=MessageSource.API,
            client_key=data.get("client_key"),
        )
        out = {**_message_data(message, viewer=request.user), "replayed": message.replayed}
        return Response(
            ChatMessagePostOut(out).data,
            status=status.HTTP_200_OK if message.replayed else status.HTTP_201_CREATED,
        )


def _bounded(raw, name: str, low: int, high: int, default: int) -> int:
    if raw in (None, ""):
        return default
    if not str(raw).isdigit() or len(str(raw)) > 19 or not low <= int(raw) <= high:
        raise ValidationFailed(
            {
                name: [
                    _("%(name)s must be a whole number from %(low)d to %(high)d.")
                    % {"name": name, "low": low, "high": high}
                ]
            }
        )
    return int(raw)


class ThreadReadApi(APIView):
    class ChatReadOut(serializers.Serializer):
        seen_at = serializers.DateTimeField()

    @extend_schema(
        request=None,
        responses=ChatReadOut,
        operation_id="chat_thread_read",
        description="Mark the thread read up to now (its unread mark goes).",
    )
    def post(self, request, pk: int):
        thread = _thread_or_404(request, pk)
        now = timezone.now()
        services.thread_mark_seen(thread=thread, user=request.user, at=now)
        return Response({"seen_at": now})
