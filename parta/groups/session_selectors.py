"""Reads about live sessions: a fixed number of queries whatever the numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from parta.accounts.models import User
from parta.groups.models import Invitation, LiveSession, Response

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
