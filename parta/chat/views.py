"""The student's side of chat: their threads, a thread's page (messages, the attempts
block, the reply form), asking about a task, a new support question, and the polling
fallback for open thread pages.

Forms are plain POSTs that work without JavaScript (the page answers with a redirect to
the new message). Sent by htmx (or by ``chat/live.js`` with an ``HX-Request`` header) the
reply form is answered with the new message's ``_message.html`` (201), or the form with
its error (4xx).
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from parta.access.selectors import is_staff_like
from parta.catalog.models import Course, Task
from parta.catalog.workspace import can_use_workspace
from parta.chat import selectors, services
from parta.chat.models import TEXT_MAX_LENGTH, MessageSource
from parta.common.converters import MAX_ID
from parta.common.errors import ApplicationError, PermissionDenied, ValidationFailed
from parta.common.pages import error_page
from parta.learning.selectors import course_list


def _client_key(raw: str) -> str | None:
    """The form's hidden key; anything that is not a short printable string is ignored
    (the message is then stored without replay protection)."""
    if 1 <= len(raw) <= 64 and raw.isascii() and raw.isprintable():
        return raw
    return None


def _thread_url(thread, message=None) -> str:
    url = reverse("chat:thread", args=[thread.pk])
    return f"{url}#message-{message.pk}" if message is not None else url


def _form_context(*, error: ApplicationError | None = None, typed: str = "") -> dict:
    field = ""
    if isinstance(error, ValidationFailed) and error.errors:
        field = next(iter(error.errors))
    elif error is not None:
        field = error.field or ""
    return {
        "error": error.message if error is not None else "",
        "error_field": field,
        "typed": typed,
        "client_key": uuid.uuid4(),
        "text_max": TEXT_MAX_LENGTH,
    }


def _posted(request) -> tuple[str, object, str | None]:
    return (
        request.POST.get("text", ""),
        request.FILES.get("attachment"),
        _client_key(request.POST.get("client_key", "")),
    )


# --- My threads ----------------------------------------------------------------------------


@login_required
@require_GET
def my_threads(request):
    page = selectors.student_thread_page(user=request.user, page=request.GET.get("page"))
    return render(
        request,
        "chat/my_threads.html",
        {"page": page, "school": can_use_workspace(request.user)},
    )


# --- A thread ------------------------------------------------------------------------------


def _inbox_url(thread_id: int) -> str | None:
    """The moderators' page of a thread, when the inbox is installed."""
    try:
        return reverse("inbox:thread", args=[thread_id])
    except NoReverseMatch:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def thread_page(request, pk: int):
    thread = selectors.thread_for_viewer(user=request.user, thread_id=pk)
    if thread is None:
        raise Http404
    school = can_use_workspace(request.user)
    if school and request.method == "GET":
        inbox = _inbox_url(thread.pk)
        if inbox is not None:
            return redirect(inbox)
    form = _form_context()
    status = 200
    if request.method == "POST":
        text, attachment, client_key = _posted(request)
        try:
            message = services.message_post(
                thread=thread,
                author=request.user,
                text=text,
                attachment=attachment,
                source=MessageSource.SITE,
                client_key=client_key,
            )
        except ApplicationError as exc:
            status = exc.status_code
            form = _form_context(error=exc, typed=text[:TEXT_MAX_LENGTH])
            if request.htmx:
                return render(
                    request,
                    "chat/_message_form.html",
                    {"thread": thread, "form": form},
                    status=status,
                )
        else:
            if request.htmx:
                return render(
                    request,
                    "chat/_message.html",
                    {"message": message, "viewer": request.user},
                    status=200 if message.replayed else 201,
                )
            return redirect(_thread_url(thread, message))
    # Not "messages": the base page shows Django's flash messages under that name.
    chat_messages = list(selectors.thread_messages(thread=thread))
    if request.method == "GET":
        services.thread_mark_seen(thread=thread, user=request.user, at=timezone.now())
    context = {
        "thread": thread,
        "chat_messages": chat_messages,
        "last_id": chat_messages[-1].pk if chat_messages else 0,
        "attempts": selectors.task_attempts(thread=thread),
        "form": form,
        "school": school,
        "task_url": reverse("learning:task", args=[thread.task.topic.course.slug, thread.task.pk])
        if thread.task_id
        else "",
    }
    return render(request, "chat/thread.html", context, status=status)


@login_required
@require_GET
def thread_messages(request, pk: int):
    """The polling fallback: the HTML of the messages after ``?after=<id>`` (each one
    ``_message.html``); 404 for someone who may not see the thread."""
    thread = selectors.thread_for_viewer(user=request.user, thread_id=pk)
    if thread is None:
        raise Http404
    raw = request.GET.get("after", "0") or "0"
    if not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_ID:
        return HttpResponseBadRequest(
            _("after must be a message id."), content_type="text/plain; charset=utf-8"
        )
    messages = list(selectors.thread_messages(thread=thread, after_id=int(raw)))
    if messages:
        services.thread_mark_seen(thread=thread, user=request.user, at=timezone.now())
    response = render(
        request, "chat/_messages.html", {"chat_messages": messages, "viewer": request.user}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Asking about a task -------------------------------------------------------------------


def _task_or_404(request, pk: int) -> Task:
    task = Task.objects.select_related("topic__course").filter(pk=pk).first()
    if task is None or (not task.topic.course.is_published and not is_staff_like(request.user)):
        raise Http404
    return task


@login_required
@require_http_methods(["GET", "POST"])
def task_ask(request, pk: int):
    """ "Ask a moderator" about a task: the question's form once the student may ask
    (403 with the number of wrong answers left before that); their thread if they have one."""
    task = _task_or_404(request, pk)
    status = selectors.task_ask_status(user=request.user, task=task)
    task_url = reverse("learning:task", args=[task.topic.course.slug, task.pk])
    if status.thread is not None and request.method == "GET":
        return redirect(_thread_url(status.thread))
    context = {"task": task, "task_url": task_url, "status": status, "form": _form_context()}
    if not status.allowed:
        return render(request, "chat/ask.html", context, status=403)
    if request.method == "POST":
        text, attachment, client_key = _posted(request)
        try:
            thread = services.task_thread_open(
                student=request.user,
                task=task,
                text=text,
                attachment=attachment,
                client_key=client_key,
            )
        except ApplicationError as exc:
            context["form"] = _form_context(error=exc, typed=text[:TEXT_MAX_LENGTH])
            return render(request, "chat/ask.html", context, status=exc.status_code)
        return redirect(_thread_url(thread))
    return render(request, "chat/ask.html", context)


# --- Support -------------------------------------------------------------------------------


def _faq_suggest_url() -> str:
    """The FAQ's suggestions while typing (``faq:suggest``, sent ``?text=``), when the FAQ
    app is installed."""
    try:
        return reverse("faq:suggest")
    except NoReverseMatch:
        return ""


@login_required
@require_http_methods(["GET", "POST"])
def support_new(request):
    """A new question to the school (the FAQ page links here with ``?q=<typed text>``)."""
    if can_use_workspace(request.user):
        return error_page(
            request,
            PermissionDenied(_("Moderators answer questions in the inbox; they do not ask them.")),
        )
    courses = course_list(user=request.user)
    context = {
        "courses": courses,
        "suggest_url": _faq_suggest_url(),
        "form": _form_context(typed=request.GET.get("q", "")[:TEXT_MAX_LENGTH]),
        "chosen_course": "",
    }
    if request.method == "GET":
        return render(request, "chat/support_new.html", context)
    text, attachment, client_key = _posted(request)
    raw_course = request.POST.get("course", "")
    course = next((c for c in courses if str(c.pk) == raw_course), None)
    context["chosen_course"] = str(course.pk) if course else ""
    if raw_course and course is None:
        context["form"] = _form_context(
            error=ApplicationError(_("Choose a course from the list, or none."), field="course"),
            typed=text[:TEXT_MAX_LENGTH],
        )
        return render(request, "chat/support_new.html", context, status=400)
    try:
        thread = services.support_thread_open(
            student=request.user,
            text=text,
            course=course if isinstance(course, Course) else None,
            attachment=attachment,
            client_key=client_key,
        )
    except ApplicationError as exc:
        context["form"] = _form_context(error=exc, typed=text[:TEXT_MAX_LENGTH])
        return render(request, "chat/support_new.html", context, status=exc.status_code)
    return redirect(_thread_url(thread))
