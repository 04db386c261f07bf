"""The moderators' inbox pages: the list of threads with filters, a thread's page (messages,
the reply form with saved replies, private notes, take/assign, close/reopen, and beside a
task thread its statement, solution, the student's attempts and statistics), and the
saved replies' page.

Moderators and staff only (``workspace_required``: 403 for everyone else, sign-in for
anonymous visitors). Forms are plain POSTs that work without JavaScript; htmx (or
``chat/live.js``) sends some of them in place. Views parse input, call one service from
``parta.chat.inbox`` (or ``parta.chat.services.message_post``) and render.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parta.catalog.workspace import workspace_required
from parta.chat import inbox, services
from parta.chat.inbox import InboxFilters, InboxShow
from parta.chat.models import TEXT_MAX_LENGTH, MessageSource, SavedReply, Thread
from parta.chat.selectors import thread_for_viewer, thread_messages
from parta.common.converters import MAX_ID
from parta.common.errors import ApplicationError, ValidationFailed

TEMPLATES = "chat/"


def _thread_or_404(request, pk: int) -> Thread:
    thread = thread_for_viewer(user=request.user, thread_id=pk)
    if thread is None:
        raise Http404
    return thread


def _thread_url(thread_id: int, anchor: str = "") -> str:
    url = reverse("inbox:thread", args=[thread_id])
    return f"{url}#{anchor}" if anchor else url


# --- The list ----------------------------------------------------------------------------------


def _filters(request) -> tuple[InboxFilters, str]:
    try:
        return (
            inbox.inbox_filters_parse(
                show=request.GET.get("show"),
                kind=request.GET.get("kind"),
                course=request.GET.get("course"),
            ),
            "",
        )
    except ValidationFailed as exc:
        return InboxFilters(), exc.message


@workspace_required
@require_GET
def index(request):
    filters, error = _filters(request)
    page = inbox.inbox_page(viewer=request.user, filters=filters, page=request.GET.get("page"))
    tabs = [
        {
            "value": value,
            "label": InboxShow.labels[value],
            "query": filters.query(show=value),
            "current": value == filters.show,
        }
        for value in InboxShow.values
    ]
    context = {
        "page": page,
        "filters": filters,
        "tabs": tabs,
        "courses": inbox.inbox_courses(),
        "newer_query": filters.query(page=page.previous_page_number())
        if page.has_previous()
        else None,
        "older_query": filters.query(page=page.next_page_number()) if page.has_next() else None,
        "filter_error": error,
        "now": timezone.now(),
    }
    # htmx swaps the list (tabs, filters, rows) in place; a history restore wants the page.
    partial = request.htmx and not request.htmx.history_restore_request
    template = TEMPLATES + ("inbox_list.html" if partial else "inbox.html")
    return render(request, template, context, status=400 if error else 200)


# --- A thread -----------------------------------------------------------------------------------


def _client_key(raw: str) -> str | None:
    """The form's hidden key; anything but a short printable string is ignored."""
    if 1 <= len(raw) <= 64 and raw.isascii() and raw.isprintable():
        return raw
    return None


def _reply_form(*, error: ApplicationError | None = None, typed: str = "") -> dict:
    """The context chat's ``_compose.html`` reads."""
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


def _note_form(*, error: str = "", typed: str = "") -> dict:
    return {"error": error, "typed": typed, "text_max": TEXT_MAX_LENGTH}


def _inserted_reply(request, replies: list[SavedReply]) -> str:
    """``?insert=<saved reply id>`` puts that reply in the box (the saved replies' links
    without JavaScript)."""
    raw = request.GET.get("insert", "")
    return next((reply.text for reply in replies if str(reply.pk) == raw), "")


def _thread_page(request, thread: Thread, *, form: dict, note_form: dict, status: int = 200):
    # Not "messages": that name is the page's flash messages (base.html).
    thread_messages_list = list(thread_messages(thread=thread))
    if request.method == "GET":
        services.thread_mark_seen(thread=thread, user=request.user, at=timezone.now())
    replies = inbox.saved_reply_list()
    if request.method == "GET" and not form["typed"]:
        form["typed"] = _inserted_reply(request, replies)
    course = thread.course
    context = {
        "thread": thread,
        "thread_messages": thread_messages_list,
        "last_id": thread_messages_list[-1].pk if thread_messages_list else 0,
        "form": form,
        "note_form": note_form,
        "notes": inbox.thread_notes(thread=thread),
        "saved_replies": replies,
        "members": list(inbox.school_members()),
        "task_context": inbox.thread_task_context(thread=thread),
        "stats": inbox.thread_student_stats(thread=thread),
        "stats_url": reverse("learning:student-stats", args=[thread.student_id])
        + (f"?course={course.slug}" if course is not None else ""),
        "task_url": reverse("learning:task", args=[thread.task.topic.course.slug, thread.task.pk])
        if thread.task_id
        else "",
    }
    return render(request, TEMPLATES + "inbox_thread.html", context, status=status)


@workspace_required
@require_http_methods(["GET", "POST"])
def thread_page(request, pk: int):
    """The thread; a POST is a reply (``message_post``): the page again at the new message,
    or with the form's error; sent by htmx, the new message alone (201) or the form."""
    thread = _thread_or_404(request, pk)
    if request.method == "GET":
        return _thread_page(request, thread, form=_reply_form(), note_form=_note_form())
    text = request.POST.get("text", "")
    try:
        message = services.message_post(
            thread=thread,
            author=request.user,
            text=text,
            attachment=request.FILES.get("attachment"),
            source=MessageSource.SITE,
            client_key=_client_key(request.POST.get("client_key", "")),
        )
    except ApplicationError as exc:
        form = _reply_form(error=exc, typed=text[:TEXT_MAX_LENGTH])
        if request.htmx:
            context = {"thread": thread, "form": form, "saved_replies": inbox.saved_reply_list()}
            return render(
                request, TEMPLATES + "inbox_reply_form.html", context, status=exc.status_code
            )
        return _thread_page(
            request, thread, form=form, note_form=_note_form(), status=exc.status_code
        )
    if request.htmx:
        return render(
            request,
            "chat/_message.html",
            {"message": message, "viewer": request.user},
            status=200 if message.replayed else 201,
        )
    return redirect(_thread_url(thread.pk, f"message-{message.pk}"))


def _act(request, pk: int, action, done: str):
    """Run ``action(thread)`` (a service), say how it went, and go back to the thread."""
    thread = _thread_or_404(request, pk)
    try:
        action(thread)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(_thread_url(thread.pk))


@workspace_required
@require_POST
def thread_take(request, pk: int):
    return _act(
        request,
        pk,
        lambda thread: inbox.thread_take(thread=thread, moderator=request.user),
        _("The thread is yours."),
    )


def _assignee(raw: str):
    """The user chosen in the assign form: None for "nobody"; a ValidationFailed for an
    id that names no one."""
    if raw in ("", "none"):
        return None
    user = None
    if raw.isdigit() and len(raw) <= 19 and 0 < int(raw) <= MAX_ID:
        user = get_user_model().objects.filter(pk=int(raw)).first()
    if user is None:
        raise ValidationFailed({"assignee": [_("Choose a moderator from the list.")]})
    return user


@workspace_required
@require_POST
def thread_assign(request, pk: int):
    def assign(thread):
        assignee = _assignee(request.POST.get("assignee", ""))
        inbox.thread_assign(thread=thread, assignee=assignee, by=request.user)
        return assignee

    thread = _thread_or_404(request, pk)
    try:
        assignee = assign(thread)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if assignee is None:
            messages.success(request, _("The thread is assigned to nobody now."))
        else:
            messages.success(
                request,
                _("The thread is assigned to %(name)s.") % {"name": assignee.full_name},
            )
    return redirect(_thread_url(thread.pk))


@workspace_required
@require_POST
def thread_close(request, pk: int):
    return _act(
        request,
        pk,
        lambda thread: inbox.thread_close(thread=thread, by=request.user),
        _("The thread is closed. A new message from the student opens it again."),
    )


@workspace_required
@require_POST
def thread_reopen(request, pk: int):
    return _act(
        request,
        pk,
        lambda thread: inbox.thread_reopen(thread=thread, by=request.user),
        _("The thread is open again."),
    )


@workspace_required
@require_POST
def note_add(request, pk: int):
    """A private note; sent by htmx, the notes block again (with the form's error)."""
    thread = _thread_or_404(request, pk)
    text = request.POST.get("text", "")
    status, note_form = 201, _note_form()
    try:
        inbox.thread_note_add(thread=thread, author=request.user, text=text)
    except ApplicationError as exc:
        status = exc.status_code
        note_form = _note_form(error=exc.message, typed=text[:TEXT_MAX_LENGTH])
        if not request.htmx:
            return _thread_page(
                request, thread, form=_reply_form(), note_form=note_form, status=status
            )
    if request.htmx:
        context = {"thread": thread, "notes": inbox.thread_notes(thread=thread)}
        context["note_form"] = note_form
        return render(request, TEMPLATES + "inbox_notes.html", context, status=status)
    messages.success(request, _("Note added. Students never see notes."))
    return redirect(_thread_url(thread.pk, "notes"))


# --- Saved replies -------------------------------------------------------------------------------


class SavedReplyForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=inbox.SAVED_REPLY_TITLE_MAX_LENGTH,
        help_text=gettext_lazy("The button's label beside the reply box."),
    )
    text = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        strip=False,
    )
    position = forms.IntegerField(
        label=gettext_lazy("Position"),
        required=False,
        min_value=0,
        max_value=10**6,
        help_text=gettext_lazy("Smaller numbers come first; empty: at the end."),
    )


def _put_errors(form: forms.Form, exc: ApplicationError) -> None:
    if isinstance(exc, ValidationFailed):
        for field, field_errors in exc.errors.items():
            for message in field_errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, exc.message)


@workspace_required
@require_http_methods(["GET", "POST"])
def replies(request):
    """The saved replies, and a form for a new one."""
    form = SavedReplyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inbox.saved_reply_create(
                author=request.user,
                title=data["title"],
                text=data["text"],
                position=data["position"],
            )
        except ApplicationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Saved reply added."))
            return redirect("inbox:replies")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "replies": inbox.saved_reply_list()}
    return render(request, TEMPLATES + "inbox_replies.html", context, status=status)


@workspace_required
@require_http_methods(["GET", "POST"])
def reply_edit(request, pk: int):
    reply = get_object_or_404(SavedReply, pk=pk)
    initial = {"title": reply.title, "text": reply.text, "position": reply.position}
    form = SavedReplyForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inbox.saved_reply_update(
                reply=reply,
                by=request.user,
                title=data["title"],
                text=data["text"],
                position=data["position"],
            )
        except ApplicationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Saved reply changed."))
            return redirect("inbox:replies")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "reply": reply}
    return render(request, TEMPLATES + "inbox_reply_edit.html", context, status=status)


@workspace_required
@require_POST
def reply_delete(request, pk: int):
    reply = get_object_or_404(SavedReply, pk=pk)
    inbox.saved_reply_delete(reply=reply, by=request.user)
    messages.success(request, _("Saved reply deleted."))
    return redirect("inbox:replies")
