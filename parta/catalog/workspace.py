"""The moderator workspace: Parta's own pages where moderators and staff build courses.

Views parse a form, call one service from parta.catalog.services and put its
ValidationFailed back on the form. Dates are entered and shown in the school's time
zone. Everyone else gets 403 (anonymous visitors opening a page are sent to sign in).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Prefetch
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from parta.catalog import services
from parta.catalog.forms import (
    CourseForm,
    LessonForm,
    TaskForm,
    TestForm,
    TopicForm,
    choice_formset,
    choices_from_formset,
    format_major_units,
)
from parta.catalog.models import Course, Lesson, Task, Test, Topic
from parta.common.errors import ApplicationError, ValidationFailed
from parta.common.time import school_tz

TEMPLATES = "catalog/workspace/"
# Task columns the outline does not show; long Markdown stays in the database.
_OUTLINE_TASK_DEFER = ("statement", "solution", "answer_text")


def can_use_workspace(user) -> bool:
    return user.is_authenticated and (user.is_moderator or user.is_school_staff)


def workspace_required(view: Callable) -> Callable:
    """Only moderators and staff; dates in the view are in the school's time zone."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated and request.method in ("GET", "HEAD"):
            return redirect_to_login(request.get_full_path())
        if not can_use_workspace(user):
            raise PermissionDenied
        with timezone.override(school_tz()):
            return view(request, *args, **kwargs)

    return wrapper


def _put_errors(form: Form, exc: ApplicationError, *, aliases: dict | None = None) -> None:
    """Show a service's error on the form: on the field it names, else above the form."""
    if not isinstance(exc, ValidationFailed):
        form.add_error(None, exc.message)
        return
    for field, field_errors in exc.errors.items():
        name = (aliases or {}).get(field, field)
        for message in field_errors:
            form.add_error(name if name in form.fields else None, message)


def _new_file(value) -> UploadedFile | None:
    """A file the moderator just uploaded (a cleared or unchanged field gives None)."""
    return value if isinstance(value, UploadedFile) else None


def _position(cleaned: dict, current: int) -> int:
    return current if cleaned.get("position") is None else cleaned["position"]


def _outline_url(topic_or_course) -> str:
    if isinstance(topic_or_course, Course):
        return reverse("catalog:workspace-course", args=[topic_or_course.pk])
    url = reverse("catalog:workspace-course", args=[topic_or_course.course_id])
    return f"{url}#topic-{topic_or_course.pk}"


# -- courses ---------------------------------------------------------------------------


@workspace_required
@require_GET
def index(request):
    courses = Course.objects.annotate(topic_count=Count("topics")).order_by("position", "id")
    return render(request, TEMPLATES + "index.html", {"courses": courses})


def _course_outline(pk: int) -> Course:
    """The course with its topics, and each topic's lessons, tests (with their tasks)
    and the tasks outside tests, in a fixed number of queries."""
    outline_tasks = Task.objects.defer(*_OUTLINE_TASK_DEFER).annotate(
        choice_count=Count("choices")
    )
    topics = Topic.objects.prefetch_related(
        Prefetch("lessons", queryset=Lesson.objects.defer("body")),
        Prefetch(
            "tests", queryset=Test.objects.prefetch_related(Prefetch("tasks", outline_tasks))
        ),
        Prefetch("tasks", queryset=outline_tasks.filter(test=None), to_attr="loose_tasks"),
    )
    return get_object_or_404(
        Course.objects.prefetch_related("authors", Prefetch("topics", queryset=topics)), pk=pk
    )


@workspace_required
@require_GET
def course_detail(request, pk: int):
    return render(request, TEMPLATES + "course.html", {"course": _course_outline(pk)})


def _course_arguments(cleaned: dict) -> dict:
    return {
        "title": cleaned["title"],
        "slug": cleaned["slug"],
        "track": cleaned["track"],
        "description": cleaned["description"],
        "price_amount": cleaned["price_amount"],
        "price_currency": cleaned["price_currency"],
        "is_published": cleaned["is_published"],
        "authors": list(cleaned["authors"]),
    }


_COURSE_ALIASES = {"price_amount": "price"}


@workspace_required
@require_http_methods(["GET", "POST"])
def course_create(request):
    if request.method == "POST":
        form = CourseForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                course = services.course_create(
                    actor=request.user,
                    **_course_arguments(form.cleaned_data),
                    position=form.cleaned_data["position"],
                    cover=_new_file(form.cleaned_data["cover"]),
                )
            except ApplicationError as exc:
                _put_errors(form, exc, aliases=_COURSE_ALIASES)
            else:
                messages.success(request, _("Course created."))
                return redirect(_outline_url(course))
    else:
        form = CourseForm()
    return render(request, TEMPLATES + "course_form.html", {"form": form, "course": None})


@workspace_required
@require_http_methods(["GET", "POST"])
def course_edit(request, pk: int):
    course = get_object_or_404(Course, pk=pk)
    if request.method == "POST":
        form = CourseForm(request.POST, request.FILES, initial={"cover": course.cover})
        if form.is_valid():
            cover = form.cleaned_data["cover"]
            try:
                services.course_update(
                    actor=request.user,
                    course=course,
                    **_course_arguments(form.cleaned_data),
                    position=_position(form.cleaned_data, course.position),
                    cover=_new_file(cover),
                    remove_cover=cover is False,
                )
            except ApplicationError as exc:
                _put_errors(form, exc, aliases=_COURSE_ALIASES)
            else:
                messages.success(request, _("Course saved."))
                return redirect(_outline_url(course))
    else:
        form = CourseForm(
            initial={
                "title": course.title,
                "slug": course.slug,
                "track": course.track,
                "description": course.description,
                "authors": list(course.authors.all()),
                "price": format_major_units(course.price_amount, course.price_currency),
                "price_currency": course.price_currency,
                "cover": course.cover,
                "is_published": course.is_published,
                "position": course.position,
            }
        )
    return render(request, TEMPLATES + "course_form.html", {"form": form, "course": course})


# -- topics ----------------------------------------------------------------------------


@workspace_required
@require_http_methods(["GET", "POST"])
def topic_create(request, course_pk: int):
    course = get_object_or_404(Course, pk=course_pk)
    if request.method == "POST":
        form = TopicForm(request.POST)
        if form.is_valid():
            try:
                topic = services.topic_create(
                    actor=request.user, course=course, **form.cleaned_data
                )
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Topic created."))
                return redirect(_outline_url(topic))
    else:
        form = TopicForm()
    context = {"form": form, "course": course, "topic": None}
    return render(request, TEMPLATES + "topic_form.html", context)


@workspace_required
@require_http_methods(["GET", "POST"])
def topic_edit(request, pk: int):
    topic = get_object_or_404(Topic.objects.select_related("course"), pk=pk)
    if request.method == "POST":
        form = TopicForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.topic_update(
                    actor=request.user,
                    topic=topic,
                    title=data["title"],
                    description=data["description"],
                    opens_at=data["opens_at"],
                    position=_position(data, topic.position),
                )
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Topic saved."))
                return redirect(_outline_url(topic))
    else:
        form = TopicForm(
            initial={
                "title": topic.title,
                "description": topic.description,
                "opens_at": topic.opens_at,
                "position": topic.position,
            }
        )
    context = {"form": form, "course": topic.course, "topic": topic}
    return render(request, TEMPLATES + "topic_form.html", context)


def _confirm_delete(request, *, obj, course: Course, delete: Callable, done: str, details):
    """A confirmation page on GET; on POST the service deletes and we go back."""
    if request.method == "POST":
        try:
            delete()
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done)
        return redirect(_outline_url(course))
    context = {"object": obj, "course": course, "details": details}
    return render(request, TEMPLATES + "confirm_delete.html", context)


@workspace_required
@require_http_methods(["GET", "POST"])
def topic_delete(request, pk: int):
    topic = get_object_or_404(
        Topic.objects.select_related("course").annotate(
            lesson_count=Count("lessons", distinct=True),
            test_count=Count("tests", distinct=True),
            task_count=Count("tasks", distinct=True),
        ),
        pk=pk,
    )
    details = _(
        "Its %(lessons)s, %(tests)s and %(tasks)s are deleted too, "
        "with the students' answers to them."
    ) % {
        "lessons": ngettext("%(count)d lesson", "%(count)d lessons", topic.lesson_count)
        % {"count": topic.lesson_count},
        "tests": ngettext("%(count)d test", "%(count)d tests", topic.test_count)
        % {"count": topic.test_count},
        "tasks": ngettext("%(count)d task", "%(count)d tasks", topic.task_count)
        % {"count": topic.task_count},
    }
    return _confirm_delete(
        request,
        obj=topic,
        course=topic.course,
        delete=lambda: services.topic_delete(actor=request.user, topic=topic),
        done=_("Topic deleted."),
        details=details,
    )


# -- lessons ---------------------------------------------------------------------------


@workspace_required
@require_http_methods(["GET", "POST"])
def lesson_create(request, topic_pk: int):
    topic = get_object_or_404(Topic.objects.select_related("course"), pk=topic_pk)
    if request.method == "POST":
        form = LessonForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.lesson_create(
                    actor=request.user,
                    topic=topic,
                    title=data["title"],
                    body=data["body"],
                    video=_new_file(data["video"]),
                    video_url=data["video_url"],
                    is_free_preview=data["is_free_preview"],
                    position=data["position"],
                )
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Lesson created."))
                return redirect(_outline_url(topic))
    else:
        form = LessonForm()
    context = {"form": form, "course": topic.course, "topic": topic, "lesson": None}
    return render(request, TEMPLATES + "lesson_form.html", context)


@workspace_required
@require_http_methods(["GET", "POST"])
def lesson_edit(request, pk: int):
    lesson = get_object_or_404(Lesson.objects.select_related("topic__course"), pk=pk)
    if request.method == "POST":
        form = LessonForm(request.POST, request.FILES, initial={"video": lesson.video})
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.lesson_update(
                    actor=request.user,
                    lesson=lesson,
                    title=data["title"],
                    body=data["body"],
                    video=_new_file(data["video"]),
                    remove_video=data["video"] is False,
                    video_url=data["video_url"],
                    is_free_preview=data["is_free_preview"],
                    position=_position(data, lesson.position),
                )
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Lesson saved."))
                return redirect(_outline_url(lesson.topic))
    else:
        form = LessonForm(
            initial={
                "title": lesson.title,
                "body": lesson.body,
                "video": lesson.video,
                "video_url": lesson.video_url,
                "is_free_preview": lesson.is_free_preview,
                "position": lesson.position,
            }
        )
    context = {"form": form, "course": lesson.topic.course, "topic": lesson.topic}
    return render(request, TEMPLATES + "lesson_form.html", {**context, "lesson": lesson})


@workspace_required
@require_http_methods(["GET", "POST"])
def lesson_delete(request, pk: int):
    lesson = get_object_or_404(Lesson.objects.select_related("topic__course"), pk=pk)
    return _confirm_delete(
        request,
        obj=lesson,
        course=lesson.topic.course,
        delete=lambda: services.lesson_delete(actor=request.user, lesson=lesson),
        done=_("Lesson deleted."),
        details=_("Its video file is deleted too.") if lesson.video else "",
    )


# -- tasks -----------------------------------------------------------------------------


def _task_arguments(form: TaskForm, formset) -> dict:
    data = form.cleaned_data
    return {
        "title": data["title"],
        "test": data["test"],
        "statement": data["statement"],
        "kind": data["kind"],
        "points": data["points"],
        "answer_text": data["answer_text"],
        "answer_number": data["answer_number"],
        "tolerance": data["tolerance"] if data["tolerance"] is not None else Decimal(0),
        "solution": data["solution"],
        "solution_visibility": data["solution_visibility"],
        "solution_after_attempts": data["solution_after_attempts"],
        "chat_ask_after": data["chat_ask_after"],
        "choices": choices_from_formset(formset),
    }


def _task_page(request, *, topic: Topic, task: Task | None, initial: dict, choices: list):
    """Create (task=None) or edit a task; its choices come from a formset."""
    choice_errors: list[str] = []
    if request.method == "POST":
        form = TaskForm(request.POST, topic=topic)
        formset = choice_formset(data=request.POST)
        if form.is_valid() and formset.is_valid():
            arguments = _task_arguments(form, formset)
            try:
                if task is None:
                    task = services.task_create(
                        actor=request.user,
                        topic=topic,
                        position=form.cleaned_data["position"],
                        **arguments,
                    )
                else:
                    services.task_update(
                        actor=request.user,
                        task=task,
                        position=_position(form.cleaned_data, task.position),
                        **arguments,
                    )
            except ValidationFailed as exc:
                choice_errors = exc.errors.pop("choices", [])
                if exc.errors:
                    _put_errors(form, ValidationFailed(exc.errors))
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Task saved."))
                return redirect(_outline_url(topic))
    else:
        form = TaskForm(initial=initial, topic=topic)
        formset = choice_formset(initial=choices)
    context = {
        "form": form,
        "formset": formset,
        "choice_errors": choice_errors,
        "course": topic.course,
        "topic": topic,
        "task": task,
    }
    return render(request, TEMPLATES + "task_form.html", context)


@workspace_required
@require_http_methods(["GET", "POST"])
def task_create(request, topic_pk: int):
    topic = get_object_or_404(Topic.objects.select_related("course"), pk=topic_pk)
    initial = {}
    test_pk = request.GET.get("test", "")
    if test_pk.isdigit():
        initial["test"] = int(test_pk)
    return _task_page(request, topic=topic, task=None, initial=initial, choices=[])


@workspace_required
@require_http_methods(["GET", "POST"])
def task_edit(request, pk: int):
    task = get_object_or_404(Task.objects.select_related("topic__course"), pk=pk)
    initial = {
        name: getattr(task, name)
        for name in (
            "title",
            "statement",
            "kind",
            "points",
            "answer_text",
            "answer_number",
            "tolerance",
            "solution",
            "solution_visibility",
            "solution_after_attempts",
            "chat_ask_after",
            "position",
        )
    }
    initial["test"] = task.test_id
    choices = [
        {"id": choice.pk, "text": choice.text, "is_correct": choice.is_correct}
        for choice in task.choices.all()
    ]
    return _task_page(request, topic=task.topic, task=task, initial=initial, choices=choices)


@workspace_required
@require_http_methods(["GET", "POST"])
def task_delete(request, pk: int):
    task = get_object_or_404(Task.objects.select_related("topic__course"), pk=pk)
    return _confirm_delete(
        request,
        obj=task,
        course=task.topic.course,
        delete=lambda: services.task_delete(actor=request.user, task=task),
        done=_("Task deleted."),
        details=_("The students' answers to it are deleted too."),
    )


# -- tests -----------------------------------------------------------------------------


@workspace_required
@require_http_methods(["GET", "POST"])
def test_create(request, topic_pk: int):
    topic = get_object_or_404(Topic.objects.select_related("course"), pk=topic_pk)
    if request.method == "POST":
        form = TestForm(request.POST)
        if form.is_valid():
            try:
                test = services.test_create(actor=request.user, topic=topic, **form.cleaned_data)
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Test created. Now add its tasks."))
                return redirect("catalog:workspace-test", pk=test.pk)
    else:
        form = TestForm()
    context = {"form": form, "course": topic.course, "topic": topic, "test": None}
    return render(request, TEMPLATES + "test_form.html", context)


@workspace_required
@require_http_methods(["GET", "POST"])
def test_edit(request, pk: int):
    test = get_object_or_404(Test.objects.select_related("topic__course"), pk=pk)
    if request.method == "POST":
        form = TestForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.test_update(
                    actor=request.user,
                    test=test,
                    title=data["title"],
                    description=data["description"],
                    time_limit_minutes=data["time_limit_minutes"],
                    position=_position(data, test.position),
                )
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Test saved."))
                return redirect(_outline_url(test.topic))
    else:
        form = TestForm(
            initial={
                "title": test.title,
                "description": test.description,
                "time_limit_minutes": test.time_limit_minutes,
                "position": test.position,
            }
        )
    context = {
        "form": form,
        "course": test.topic.course,
        "topic": test.topic,
        "test": test,
        "tasks": test.tasks.defer(*_OUTLINE_TASK_DEFER),
    }
    return render(request, TEMPLATES + "test_form.html", context)


@workspace_required
@require_http_methods(["GET", "POST"])
def test_delete(request, pk: int):
    test = get_object_or_404(
        Test.objects.select_related("topic__course").annotate(task_count=Count("tasks")), pk=pk
    )
    return _confirm_delete(
        request,
        obj=test,
        course=test.topic.course,
        delete=lambda: services.test_delete(actor=request.user, test=test),
        done=_("Test deleted."),
        details=ngettext(
            "Its %(count)d task and the students' attempts are deleted too.",
            "Its %(count)d tasks and the students' attempts are deleted too.",
            test.task_count,
        )
        % {"count": test.task_count},
    )
