"""Live sessions on the site: the email's one-click answer links (no sign-in), and the
student's own sessions at /sessions/ where they accept or decline."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parta.catalog.models import Course
from parta.catalog.workspace import _put_errors, workspace_required
from parta.common.errors import ApplicationError
from parta.common.time import school_tz
from parta.groups import session_selectors
from parta.groups.calendar_feeds import feed_get_or_create, feed_links
from parta.groups.forms import AttendanceForm, SessionForm
from parta.groups.models import Group, LiveSession, Response
from parta.groups.selectors import teacher_choices
from parta.groups.services import may_manage_groups
from parta.groups.sessions import (
    attendance_mark,
    invitation_by_token,
    invitation_respond,
    invitation_respond_by_token,
    may_see_session,
    session_cancel,
    session_create,
    session_update,
)


@require_http_methods(["GET", "POST"])
def respond_link(request, token: str):
    """The email's link (signed: no sign-in needed) opens a page with the answer's button;
    the button records it. Opening the link records nothing, so a mail scanner or a link
    preview that fetches it cannot answer for the student. Answering again changes nothing
    and says so."""
    try:
        if request.method == "GET":
            invitation, response = invitation_by_token(token=token)
            return render(
                request,
                "groups/session_respond.html",
                {
                    "confirm": response,
                    "invitation": invitation,
                    "session": invitation.session,
                },
            )
        answered = invitation_respond_by_token(token=token)
    except ApplicationError as exc:
        return render(
            request, "groups/session_respond.html", {"error": exc.message}, status=exc.status_code
        )
    return render(
        request,
        "groups/session_respond.html",
        {"answered": answered, "session": answered.invitation.session},
    )


@login_required
@require_GET
def my_sessions(request):
    with timezone.override(school_tz()):
        upcoming, past = session_selectors.sessions_of(user=request.user)
        context = {
            "upcoming": upcoming,
            "past": past,
            "led": session_selectors.sessions_led(user=request.user)
            if may_manage_groups(request.user)
            else None,
            "feed": feed_links(feed_get_or_create(user=request.user)),
        }
        return render(request, "groups/my_sessions.html", context)


@login_required
@require_POST
def my_session_respond(request, pk: int):
    response = request.POST.get("response", "")
    try:
        answered = invitation_respond(user=request.user, invitation_id=pk, response=response)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, answered.message())
    return redirect("groups:my-sessions")


# --- The workspace: moderators and staff make, move and cancel; the teacher marks -----


def _session_or_404(pk: int) -> LiveSession:
    session = LiveSession.objects.select_related("course", "teacher").filter(pk=pk).first()
    if session is None:
        raise Http404
    return session


@workspace_required
@require_http_methods(["GET", "POST"])
def course_sessions(request, pk: int):
    """The course's sessions, soonest first, and the form for a new one."""
    course = get_object_or_404(Course, pk=pk)
    form = SessionForm(
        request.POST or None,
        groups=Group.objects.filter(course=course).order_by("number"),
        teachers=teacher_choices(),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                session = session_create(
                    actor=request.user,
                    course=course,
                    groups=list(data["groups"]),
                    teacher=data["teacher"],
                    starts_at=data["starts_at"],
                    duration_minutes=data["duration_minutes"],
                    meeting_url=data["meeting_url"],
                    description=data["description"],
                )
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("The session is planned and the invitations sent."))
                return redirect("groups:session", session.pk)
        status = 400
    context = {
        "course": course,
        "sessions": session_selectors.course_sessions(course=course),
        "form": form,
    }
    return render(request, "groups/course_sessions.html", context, status=status)


def _render_session(request, session, *, form=None, status=200):
    responses = session_selectors.session_responses(session=session)
    invitations = [i for group in responses.values() for i in group]
    manage = may_manage_groups(request.user)
    if form is None and manage and not session.is_cancelled:
        form = SessionForm(
            initial={
                "teacher": session.teacher_id,
                "starts_at": session.starts_at,
                "duration_minutes": session.duration_minutes,
                "meeting_url": session.meeting_url,
                "description": session.description,
            },
            teachers=teacher_choices(),
        )
    started = session.starts_at <= timezone.now()
    context = {
        "course": session.course,
        "session": session,
        "groups": list(session.groups.order_by("number")),
        "responses": [(label, responses[value]) for value, label in Response.choices],
        "form": form,
        "manage": manage,
        "attendance": AttendanceForm(invitations=invitations)
        if started and not session.is_cancelled
        else None,
    }
    return render(request, "groups/session.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def session_page(request, pk: int):
    """Responses and attendance for the teacher, moderators and staff; moving for the last
    two. Anyone else: 404 (the link is not theirs to see)."""
    session = _session_or_404(pk)
    if not may_see_session(user=request.user, session=session):
        raise Http404
    with timezone.override(school_tz()):
        if request.method == "GET":
            return _render_session(request, session)
        if not may_manage_groups(request.user):
            raise PermissionDenied
        form = SessionForm(request.POST, teachers=teacher_choices())
        if form.is_valid():
            data = form.cleaned_data
            try:
                session_update(
                    actor=request.user,
                    session=session,
                    starts_at=data["starts_at"],
                    duration_minutes=data["duration_minutes"],
                    meeting_url=data["meeting_url"],
                    description=data["description"],
                    teacher=data["teacher"],
                )
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Saved; the members are told of a new time."))
                return redirect("groups:session", session.pk)
        return _render_session(request, session, form=form, status=400)


@workspace_required
@require_POST
def session_cancel_view(request, pk: int):
    session = _session_or_404(pk)
    try:
        session_cancel(actor=request.user, session=session)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The session is cancelled and the members are told."))
    return redirect("groups:session", session.pk)


@login_required
@require_POST
def session_attendance(request, pk: int):
    session = _session_or_404(pk)
    if not may_see_session(user=request.user, session=session):
        raise Http404
    invitations = list(session.invitations.select_related("user").order_by("id"))
    form = AttendanceForm(request.POST, invitations=invitations)
    form.is_valid()  # checkboxes: always valid
    try:
        changed = attendance_mark(actor=request.user, session=session, attended=form.marks())
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Attendance saved (%(count)d changed).") % {"count": changed})
    return redirect("groups:session", session.pk)
