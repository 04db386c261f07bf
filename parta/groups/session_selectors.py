"""Reads about live sessions: a fixed number of queries whatever the numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from parta.accounts.models import User
from parta.groups.models import Group, Invitation, LiveSession, Response
from parta.groups.sessions import DURATION_MAX_MINUTES, may_see_session

PAST_SHOWN = 20


def sessions_of(
    *, user: User, now: datetime | None = None
) -> tuple[list[Invitation], list[Invitation]]:
    """The person's invitations, upcoming (not yet over, soonest first) and past (latest
    first, at most PAST_SHOWN), each with its session and course: one query."""
    now = now or timezone.now()
    invitations = list(
        Invitation.objects.filter(user=user)
        .select_related("session__course", "session__teacher")
        .order_by("session__starts_at", "session_id")
    )
    upcoming, past = [], []
    for invitation in invitations:
        session = invitation.session
        ends = session.starts_at + timedelta(minutes=session.duration_minutes)
        (upcoming if ends > now else past).append(invitation)
    past.reverse()
    return upcoming, past[:PAST_SHOWN]


def session_responses(*, session: LiveSession) -> dict[str, list[Invitation]]:
    """Who accepted, declined or did not answer, with each one's attendance: one query."""
    grouped: dict[str, list[Invitation]] = {value: [] for value in Response.values}
    for invitation in (
        Invitation.objects.filter(session=session)
        .select_related("user")
        .order_by("user__full_name", "id")
    ):
        grouped[invitation.response].append(invitation)
    return grouped


def course_sessions(*, course, limit: int = 50) -> list[LiveSession]:
    """The course's latest sessions, soonest first, with teacher and invitation counts:
    one query."""
    return list(
        LiveSession.objects.filter(course=course)
        .select_related("teacher")
        .annotate(
            invited=Count("invitations"),
            accepted=Count("invitations", filter=Q(invitations__response=Response.ACCEPTED)),
        )
        .order_by("-starts_at", "-id")[:limit]
    )


# --- Calendars ---------------------------------------------------------------------

CALENDAR_PAST_DAYS = 180


def _calendar_sessions(queryset):
    return list(
        queryset.select_related("course", "teacher")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("number")))
        .order_by("starts_at", "id")
    )


def calendar_sessions(*, user: User, now: datetime | None = None) -> list[LiveSession]:
    """A person's calendar: the sessions they are invited to and did not decline, teach or
    planned, from CALENDAR_PAST_DAYS ago on, cancelled ones included (calendars then strike
    them out), with course, teacher and groups: two queries."""
    since = (now or timezone.now()) - timedelta(days=CALENDAR_PAST_DAYS)
    invited = (
        Invitation.objects.filter(user=user)
        .exclude(response=Response.DECLINED)
        .values("session_id")
    )
    return _calendar_sessions(
        LiveSession.objects.filter(
            Q(pk__in=invited) | Q(teacher=user) | Q(created_by=user), starts_at__gte=since
        )
    )


def calendar_session(*, user: User, pk: int) -> LiveSession | None:
    """One session for its ``.ics``: only to someone who sees it (its teacher, moderators,
    staff) or was invited to it; anyone else gets None. Two queries."""
    found = _calendar_sessions(LiveSession.objects.filter(pk=pk))
    if not found:
        return None
    session = found[0]
    if may_see_session(user=user, session=session):
        return session
    if Invitation.objects.filter(session=session, user=user).exists():
        return session
    return None


def sessions_led(*, user: User, now: datetime | None = None, limit: int = 50) -> list[LiveSession]:
    """Upcoming sessions the person teaches or planned, soonest first: one query."""
    now = now or timezone.now()
    return list(
        LiveSession.objects.filter(
            Q(teacher=user) | Q(created_by=user),
            starts_at__gt=now - timedelta(minutes=DURATION_MAX_MINUTES),
        )
        .select_related("course", "teacher")
        .order_by("starts_at", "id")[:limit]
    )


def course_invitations_upcoming(
    *, user: User, course_id: int, now: datetime | None = None, limit: int = 5
) -> list[Invitation]:
    """The person's invitations to the course's sessions that are not over yet, soonest
    first, with session and teacher: one query."""
    now = now or timezone.now()
    if not user.is_authenticated:
        return []
    rows = (
        Invitation.objects.filter(
            user=user,
            session__course_id=course_id,
            session__starts_at__gt=now - timedelta(minutes=DURATION_MAX_MINUTES),
        )
        .select_related("session__teacher")
        .order_by("session__starts_at", "session_id")
    )
    found = []
    for invitation in rows:
        session = invitation.session
        if session.starts_at + timedelta(minutes=session.duration_minutes) > now:
            found.append(invitation)
            if len(found) == limit:
                break
    return found
