"""Learning API: the catalogue with what each user may open, answers, statistics."""

from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.access.selectors import access_check, accessible_course_ids, is_staff_like
from parta.accounts.models import User
from parta.catalog.models import Course, Lesson, Task, TaskChoice, Topic
from parta.common.errors import NotFound, PermissionDenied
from parta.common.serializers import IdField
from parta.learning import selectors
from parta.learning.models import TaskProgress
from parta.learning.services import task_answer_submit

# Printable ASCII, 1-64 characters: what a UUID, a ULID or a counter looks like.
CLIENT_KEY_PATTERN = r"^[ -~]{1,64}$"


class _LessonOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    is_free_preview = serializers.BooleanField()
    available = serializers.BooleanField(help_text="Whether this user may open it now.")


class _TopicOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    position = serializers.IntegerField()
    opens_at = serializers.DateTimeField(allow_null=True)
    is_open = serializers.BooleanField()
    tasks_count = serializers.IntegerField()
    lessons = _LessonOut(many=True)


class _ChoiceOut(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class _TaskOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="Answer it at POST /api/v1/tasks/{id}/answer/.")
    title = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=["text", "number", "single", "multiple"],
        help_text='"text" and "number": send "answer"; "single": send "choice" (one id); '
        '"multiple": send "choices" (a list of ids).',
    )
    points = serializers.IntegerField()
    choices = _ChoiceOut(many=True, help_text="Empty for text and number tasks.")
    solved = serializers.BooleanField()


class _TopicDetailOut(_TopicOut):
    tasks = _TaskOut(
        many=True,
        help_text="The topic's tasks, listed only when this user may study the topic now.",
    )


class _PriceOut(serializers.Serializer):
    amount = serializers.IntegerField(help_text="Minor units (kopecks, cents).")
    currency = serializers.CharField()


class CourseOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()
    track = serializers.CharField()
    description = serializers.CharField()
    price = _PriceOut()
    authors = serializers.ListField(child=serializers.CharField())
    has_access = serializers.BooleanField()
    topics = _TopicOut(many=True)


class CourseDetailOut(CourseOut):
    topics = _TopicDetailOut(many=True)


def _courses_queryset():
    return Course.objects.prefetch_related(
        "authors",
        Prefetch(
            "topics",
            queryset=Topic.objects.annotate(
                tasks_count=Count("tasks", filter=Q(tasks__test__isnull=True))
            ).prefetch_related(
                Prefetch(
                    "lessons",
                    queryset=Lesson.objects.only(
                        "id", "topic_id", "title", "position", "is_free_preview"
                    ),
                )
            ),
        ),
    )


def _course_data(
    course: Course, *, has_access: bool, staff: bool, now, solved: set[int] | None = None
) -> dict:
    """``solved`` is given for the detail view: then each topic lists its tasks (to the
    users who may study it), without the answer key."""
    topics = []
    for topic in course.topics.all():
        is_open = topic.is_open(now)
        may_study = has_access and (is_open or staff)
        extra = {}
        if solved is not None:
            extra["tasks"] = (
                [
                    {
                        "id": task.id,
                        "title": task.title,
                        "kind": task.kind,
                        "points": task.points,
                        "choices": [{"id": c.id, "text": c.text} for c in task.choices.all()],
                        "solved": task.id in solved,
                    }
                    for task in topic.tasks.all()
                ]
                if may_study
                else []
            )
        topics.append(
            {
                **extra,
                "id": topic.id,
                "title": topic.title,
                "position": topic.position,
                "opens_at": topic.opens_at,
                "is_open": is_open,
                "tasks_count": topic.tasks_count,
                "lessons": [
                    {
                        "id": lesson.id,
                        "title": lesson.title,
                        "is_free_preview": lesson.is_free_preview,
                        "available": may_study or lesson.is_free_preview,
                    }
                    for lesson in topic.lessons.all()
                ],
            }
        )
    return {
        "id": course.id,
        "slug": course.slug,
        "title": course.title,
        "track": course.track,
        "description": course.description,
        "price": {"amount": course.price_amount, "currency": course.price_currency},
        "authors": [author.name for author in course.authors.all()],
        "has_access": has_access,
        "topics": topics,
    }


class CourseListApi(APIView):
    """Published courses with their topics, and for each lesson whether the requesting
    user may open it (anonymous users see free previews only)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=CourseOut(many=True), operation_id="courses_list")
    def get(self, request):
        user = request.user
        staff = is_staff_like(user)
        qs = _courses_queryset()
        if not staff:
            qs = qs.filter(is_published=True)
        courses = list(qs)
        allowed = accessible_course_ids(user=user, course_ids=[c.id for c in courses])
        now = timezone.now()
        data = [_course_data(c, has_access=c.id in allowed, staff=staff, now=now) for c in courses]
        return Response(CourseOut(data, many=True).data)


class CourseDetailApi(APIView):
    """One course; to users who may study a topic, its tasks (id, kind, points and the
    choices to pick from, never the key), so an API client knows what to answer."""

    permission_classes = [AllowAny]

    @extend_schema(responses=CourseDetailOut, operation_id="courses_retrieve")
    def get(self, request, slug: str):
        staff = is_staff_like(request.user)
        qs = _courses_queryset().prefetch_related(
            Prefetch(
                "topics__tasks",
                queryset=Task.objects.filter(test__isnull=True)
                .only("id", "topic_id", "title", "position", "kind", "points")
                .prefetch_related(
                    Prefetch(
                        "choices",
                        queryset=TaskChoice.objects.only("id", "task_id", "text", "position"),
                    )
                ),
            )
        )
        if not staff:
            qs = qs.filter(is_published=True)
        course = qs.filter(slug=slug).first()
        if course is None:
            raise NotFound(_("No such course."))
        decision = access_check(user=request.user, course_id=course.id)
        solved: set[int] = set()
        if decision.allowed and request.user.is_authenticated:
            solved = set(
                TaskProgress.objects.filter(
                    user=request.user, course=course, solved_at__isnull=False
                ).values_list("task_id", flat=True)
            )
        data = _course_data(
            course, has_access=decision.allowed, staff=staff, now=timezone.now(), solved=solved
        )
        return Response(CourseDetailOut(data).data)


class TaskAnswerApi(APIView):
    """Check an answer on the server. The correct answer is never returned; the
    solution only when its rule allows."""

    @extend_schema_serializer(component_name="TaskAnswerInput")
    class InputSerializer(serializers.Serializer):
        answer = serializers.CharField(required=False, allow_blank=True, max_length=500)
        choice = IdField(required=False)
        choices = serializers.ListField(child=IdField(), required=False)
        client_key = serializers.RegexField(
            CLIENT_KEY_PATTERN,
            required=False,
            max_length=64,
            min_length=1,
            trim_whitespace=False,
            help_text="Any string of 1-64 printable ASCII characters that you choose per "
            "answer (a UUID does): resending the same key retries safely and is recorded "
            "once. A key belongs to one task: reused on another task it is refused with "
            "409.",
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

    @extend_schema_serializer(component_name="TaskAnswerOutput")
    class OutputSerializer(serializers.Serializer):
        correct = serializers.BooleanField()
        newly_solved = serializers.BooleanField()
        solved = serializers.BooleanField()
        attempts = serializers.IntegerField()
        replayed = serializers.BooleanField()
        solution = serializers.CharField(allow_null=True)

    @extend_schema(request=InputSerializer, responses=OutputSerializer, operation_id="task_answer")
    def post(self, request, pk: int):
        task = Task.objects.select_related("topic").filter(pk=pk).first()
        if task is None or (
            not task.topic.course.is_published and not is_staff_like(request.user)
        ):
            raise NotFound(_("No such task."))
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        client_key: str | None = data.pop("client_key", None)
        result = task_answer_submit(user=request.user, task=task, data=data, client_key=client_key)
        visible = selectors.solution_visible(
            task=task, progress=result.progress, staff=is_staff_like(request.user)
        )
        return Response(
            {
                "correct": result.is_correct,
                "newly_solved": result.newly_solved,
                "solved": result.progress.is_solved,
                "attempts": result.progress.attempts,
                "replayed": result.replayed,
                "solution": task.solution if visible else None,
            }
        )


class StatsOut(serializers.Serializer):
    course_id = serializers.IntegerField()
    topics_done = serializers.IntegerField()
    topics_total = serializers.IntegerField()
    tasks_solved = serializers.IntegerField()
    tasks_total = serializers.IntegerField()
    streak = serializers.IntegerField()
    activity = serializers.ListField(
        child=serializers.DictField(), help_text='[{"day": "2026-11-01", "solved": 3}, ...]'
    )
    last_solved = serializers.DictField(allow_null=True)


def _stats_data(user: User, course: Course) -> dict:
    stats = selectors.course_stats(user=user, course=course)
    last = stats.last_solved
    return {
        "course_id": course.id,
        "topics_done": stats.topics_done,
        "topics_total": stats.topics_total,
        "tasks_solved": stats.tasks_solved,
        "tasks_total": stats.tasks_total,
        "streak": stats.streak,
        "activity": [{"day": day.isoformat(), "solved": n} for day, n in stats.activity],
        "last_solved": {"task_id": last.task_id, "title": last.title, "solved_at": last.solved_at}
        if last
        else None,
    }


class MyStatsApi(APIView):
    @extend_schema(responses=StatsOut, operation_id="my_stats")
    def get(self, request, course_id: int):
        # Drafts are not there for students: 404, as on the pages.
        qs = Course.objects.all()
        if not is_staff_like(request.user):
            qs = qs.filter(is_published=True)
        course = get_object_or_404(qs, pk=course_id)
        return Response(StatsOut(_stats_data(request.user, course)).data)


class StudentStatsApi(APIView):
    """A moderator's view of any student's statistics in a course."""

    @extend_schema(
        responses=StatsOut,
        operation_id="student_stats",
        parameters=[OpenApiParameter("user_id", int, OpenApiParameter.PATH)],
    )
    def get(self, request, user_id: int, course_id: int):
        if not is_staff_like(request.user):
            raise PermissionDenied(_("Only moderators see other students' statistics."))
        student = User.objects.filter(pk=user_id).first()
        course = Course.objects.filter(pk=course_id).first()
        if student is None or course is None:
            raise NotFound(_("No such student or course."))
        return Response(StatsOut(_stats_data(student, course)).data)
