"""Live sessions in people's calendars: a private iCalendar feed per person (Google and
Apple calendars subscribe to its address) and a one-session ``.ics`` download.

The feed's address carries a secret token: whoever knows it reads the sessions, so a new
link replaces the token and the old address answers 404. Times are written in the
school's time zone (``TZID`` with its ``VTIMEZONE``), so a calendar in another zone shows
them right. A session's ``UID`` never changes; its ``SEQUENCE`` grows with every change
of the session (moved, changed, cancelled), so calendars replace what they had.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, date, timedelta
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from icalendar import Calendar, Event, vDuration

from parta.accounts.models import User
from parta.audit.services import record
from parta.common.time import school_today, school_tz
from parta.groups.models import CalendarFeed, LiveSession

PRODID = "-//Parta//Live sessions//EN"
REFRESH = timedelta(hours=1)
# The VTIMEZONE's rules are written out up to here at least (icalendar's own horizon).
LAST_RULES = date(2038, 1, 1)


# --- The feed's link -----------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def feed_get_or_create(*, user: User) -> CalendarFeed:
    """The person's feed, made the first time it is asked for (two at once: one wins)."""
    feed = CalendarFeed.objects.filter(user=user).first()
    if feed is not None:
        return feed
    try:
        with transaction.atomic():
            return CalendarFeed.objects.create(
                user=user, token=_new_token(), created_at=timezone.now()
            )
    except IntegrityError:
        return CalendarFeed.objects.get(user=user)


@transaction.atomic
def feed_rotate(*, user: User, actor: User | None = None, reason: str = "") -> CalendarFeed:
    """A new secret link: the old address stops working at once. Made by someone else (staff
    in the admin) it is written to the audit log, without the token."""
    feed = feed_get_or_create(user=user)
    feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    before = feed.created_at
    feed.token = _new_token()
    feed.created_at = timezone.now()
    feed.save(update_fields=["token", "created_at"])
    if actor is not None and actor.pk != user.pk:
        record(
            actor=actor,
            action="groups.calendar_feed_rotate",
            obj=feed,
            subject=user,
            before={"created_at": before},
            after={"created_at": feed.created_at},
            reason=reason,
        )
    return feed


def feed_by_token(*, token: str) -> CalendarFeed | None:
    """The feed of an active person with this token, with its person: one query."""
    if not token or len(token) > 64:
        return None
    return (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .first()
    )


def feed_links(feed: CalendarFeed) -> dict[str, str]:
    """The feed's https address, the same as webcal:// (Apple Calendar, Outlook) and the
    Google Calendar page that subscribes to it."""
    url = settings.PARTA_SITE_URL.rstrip("/") + reverse("groups:calendar-feed", args=[feed.token])
    webcal = "webcal://" + url.split("://", 1)[1]
    return {
        "url": url,
        "webcal_url": webcal,
        "google_url": "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
    }


# --- iCalendar -----------------------------------------------------------------------


def session_uid(session: LiveSession) -> str:
    host = urlsplit(settings.PARTA_SITE_URL).hostname or "parta"
    return f"parta-session-{session.pk}@{host}"


def session_sequence(session: LiveSession) -> int:
    """Seconds between the session's creation and its last change: 0 as planned, growing
    with every save (a move, a change, the cancellation), never going back."""
    return max(0, int((session.updated_at - session.created_at).total_seconds()))


def _summary(session: LiveSession) -> str:
    if session.is_cancelled:
        return _("Cancelled: %(course)s") % {"course": session.course.title}
    return _("Live session: %(course)s") % {"course": session.course.title}


def _description(session: LiveSession, *, with_link: bool) -> str:
    groups = list(session.groups.all())  # prefetched by the callers
    lines = [
        ", ".join(group.display_name for group in groups) if groups else _("The whole course")
    ]
    if session.teacher_id:
        lines.append(_("Teacher: %(name)s") % {"name": session.teacher.full_name})
    lines.append(
        ngettext("%(minutes)s minute", "%(minutes)s minutes", session.duration_minutes)
        % {"minutes": session.duration_minutes}
    )
    if session.description:
        lines += ["", session.description]
    if session.is_cancelled:
        lines += ["", _("This session was cancelled.")]
    elif with_link:
        lines += ["", _("Meeting link: %(url)s") % {"url": session.meeting_url}]
    return "\n".join(lines)


def _event(session: LiveSession, *, tz, with_link: bool) -> Event:
    event = Event()
    event.add("uid", session_uid(session))
    event.add("dtstamp", session.updated_at.astimezone(UTC))
    event.add("created", session.created_at.astimezone(UTC))
    event.add("last-modified", session.updated_at.astimezone(UTC))
    event.add("sequence", session_sequence(session))
    start = session.starts_at.astimezone(tz)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=session.duration_minutes))
    event.add("summary", _summary(session))
    event.add("description", _description(session, with_link=with_link))
    event.add("status", "CANCELLED" if session.is_cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if with_link and not session.is_cancelled:
        event.add("location", session.meeting_url)
        event.add("url", session.meeting_url)
    return event


def calendar_ics(*, sessions: Iterable[LiveSession], name: str, with_link: bool = True) -> bytes:
    """An iCalendar file of ``sessions`` (their course, teacher and groups loaded), times
    in the school's zone with its VTIMEZONE. A cancelled session has STATUS:CANCELLED and
    never a meeting link."""
    tz = school_tz()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", tz.key)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    starts = []
    for session in sessions:
        calendar.add_component(_event(session, tz=tz, with_link=with_link))
        starts.append(session.starts_at.astimezone(tz).date())
    # The zone's rules from the first session on (not its history since 1970).
    first = min(starts, default=school_today()) - timedelta(days=1)
    calendar.add_missing_timezones(
        first_date=first,
        last_date=max(LAST_RULES, max(starts, default=first) + timedelta(days=400)),
    )
    return calendar.to_ical()
