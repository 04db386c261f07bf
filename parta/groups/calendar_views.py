"""Calendars on the site: the private feed (no sign-in, the token is the key), a new link
for it, and one session's ``.ics``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe

from parta.groups import session_selectors
from parta.groups.calendar_feeds import calendar_ics, feed_by_token, feed_rotate

CONTENT_TYPE = "text/calendar; charset=utf-8"


def _ics_response(content: bytes, *, filename: str, disposition: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe  # some calendar apps ask with HEAD first
def calendar_feed(request, token: str):
    """What Google or Apple calendars fetch: an unknown or replaced token is 404."""
    feed = feed_by_token(token=token)
    if feed is None:
        raise Http404
    with translation.override(feed.user.message_language):
        sessions = session_selectors.calendar_sessions(user=feed.user)
        content = calendar_ics(sessions=sessions, name=_("Parta: live sessions"))
    return _ics_response(content, filename="parta.ics", disposition="inline")


@login_required
@require_POST
def calendar_new_link(request):
    feed_rotate(user=request.user)
    messages.success(request, _("A new calendar link is made; the old one no longer works."))
    return redirect("groups:my-sessions")


@login_required
@require_GET
def session_ics(request, pk: int):
    """One session as a file to open in a calendar: only for those who see the session
    (its teacher, moderators, staff) or were invited; anyone else 404."""
    session = session_selectors.calendar_session(user=request.user, pk=pk)
    if session is None:
        raise Http404
    content = calendar_ics(sessions=[session], name=session.course.title)
    return _ics_response(
        content, filename=f"parta-session-{session.pk}.ics", disposition="attachment"
    )
