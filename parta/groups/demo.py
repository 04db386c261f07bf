"""Demo study groups and a live session for `seed_demo`: the students were placed when
they got access; here the first group of the course gets the demo moderator as its
teacher, and the whole course is invited to an upcoming session that one student accepted,
one declined and the others have not answered yet. Idempotent: while a demo session is
still ahead, loading the demo again makes no other."""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from parta.accounts.models import User
from parta.catalog.models import Course
from parta.common.time import school_today, school_tz
from parta.groups.models import Group, Invitation, LiveSession, Response
from parta.groups.services import group_update
from parta.groups.sessions import invitation_respond, session_create

DEMO_SESSION_DESCRIPTION = "Разбор задач с параметром: вопросы по домашнему заданию."
DEMO_SESSION_URL = "https://meet.jit.si/Parta-demo-session"


@transaction.atomic
def seed_groups(*, course: Course, teacher: User, by: User) -> list[Group]:
    groups = list(Group.objects.filter(course=course).order_by("number"))
    if groups and groups[0].teacher_id is None:
        group_update(group=groups[0], by=by, name=groups[0].name, teacher=teacher)
    return groups


@transaction.atomic
def seed_session(
    *, course: Course, teacher: User, by: User, student: User, now: datetime | None = None
) -> LiveSession:
    """The demo session, the day after tomorrow at 18:00 school time, for the whole course;
    ``student`` accepted, the next invited student declined."""
    now = now or timezone.now()
    Course.objects.select_for_update().get(pk=course.pk)  # two seeds at once: one makes it
    existing = (
        LiveSession.objects.filter(
            course=course,
            description=DEMO_SESSION_DESCRIPTION,
            cancelled_at=None,
            starts_at__gt=now,
        )
        .order_by("starts_at", "id")
        .first()
    )
    if existing is not None:
        return existing
    starts_at = datetime.combine(
        school_today() + timedelta(days=2), time(18, 0), tzinfo=school_tz()
    )
    session = session_create(
        actor=by,
        course=course,
        teacher=teacher,
        starts_at=starts_at,
        duration_minutes=90,
        meeting_url=DEMO_SESSION_URL,
        description=DEMO_SESSION_DESCRIPTION,
        now=now,
    )
    invitations = list(Invitation.objects.filter(session=session).order_by("user_id"))
    mine = next((i for i in invitations if i.user_id == student.pk), None)
    others = [i for i in invitations if i.user_id != student.pk]
    answers = [(mine, Response.ACCEPTED)] if mine else []
    if others:
        answers.append((others[0], Response.DECLINED))
    for invitation, response in answers:
        invitation_respond(
            user=invitation.user, invitation_id=invitation.pk, response=response, now=now
        )
    return session
