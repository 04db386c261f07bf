"""Live sessions: making, moving and cancelling them, invitations and the answers to them,
the reminder before the start, and attendance.

Everything sent goes through the outbox (``notify_many``), stored in the caller's
transaction. The invitation and the messages about a move or a cancellation do not carry
the meeting link; the reminder does, and only to those who did not decline.

Answers come from three places, all ending in ``invitation_respond``: the site (signed in),
an email's signed one-click link (``respond_token`` names the session, the person and the
answer), and a Telegram button whose callback data carries only the invitation's id (the
bot checks that the chat's person owns it).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.accounts.models import User
from parta.audit.services import record_change, snapshot
from parta.catalog.models import Course
from parta.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from parta.common.live import live
from parta.groups.models import Group, Invitation, LiveSession, Membership, Response
from parta.groups.services import may_manage_groups
from parta.notifications.services import notify_many

DURATION_MAX_MINUTES = 12 * 60
RESPOND_SALT = "parta.groups.sessions.respond"
CALLBACK_PREFIX = "inv"  # inv:<accepted|declined>:<invitation id>
# What the audit log keeps of a session (its before and after).
SESSION_AUDIT = (
    "course",
    "teacher",
    "starts_at",
    "duration_minutes",
    "meeting_url",
    "description",
    "cancelled_at",
)


class SessionCancelled(Conflict):
    code = "session_cancelled"


# --- Validation ---------------------------------------------------------------------


def jitsi_url() -> str:
    """A fresh Jitsi room under PARTA_JITSI_BASE_URL, with a name nobody can guess."""
    base = settings.PARTA_JITSI_BASE_URL.rstrip("/") + "/"
    return f"{base}Parta-{secrets.token_urlsafe(12)}"


def _clean(
    *, starts_at: datetime, duration_minutes: int, meeting_url: str, now: datetime
) -> tuple[dict[str, list[str]], str]:
    errors: dict[str, list[str]] = {}
    if timezone.is_naive(starts_at):
        errors["starts_at"] = [_("Give the start with its time zone.")]
    elif starts_at <= now:
        errors["starts_at"] = [_("A session cannot start in the past.")]
    if not isinstance(duration_minutes, int) or duration_minutes < 1:
        errors["duration_minutes"] = [_("The duration must be at least one minute.")]
    elif duration_minutes > DURATION_MAX_MINUTES:
        errors["duration_minutes"] = [_("A session lasts at most 12 hours.")]
    meeting_url = (meeting_url or "").strip()
    if meeting_url:
        try:
            URLValidator(schemes=["http", "https"])(meeting_url)
        except ValidationError:
            errors["meeting_url"] = [_("The meeting link must be an http or https address.")]
        if len(meeting_url) > 500:
            errors["meeting_url"] = [_("The meeting link is too long.")]
    else:
        meeting_url = jitsi_url()
    return errors, meeting_url


def _check_actor(actor: User) -> None:
    if not may_manage_groups(actor):
        raise PermissionDenied(_("Only moderators and staff manage live sessions."))


def _context(session: LiveSession) -> dict:
    return {
        "session_id": session.pk,
        "course": session.course.title,
        "starts_at": session.starts_at.isoformat(),
        "duration": session.duration_minutes,
        "description": session.description,
        "teacher": session.teacher.full_name if session.teacher_id else "",
    }


def _invited(session: LiveSession) -> list[User]:
    return [
        invitation.user for invitation in session.invitations.select_related("user").order_by("id")
    ]


# --- Sessions ----------------------------------------------------------------------


@transaction.atomic
def session_create(
    *,
    actor: User,
    course: Course,
    groups: Iterable[Group] = (),
    teacher: User | None = None,
    starts_at: datetime,
    duration_minutes: int,
    meeting_url: str = "",
    description: str = "",
    now: datetime | None = None,
    reason: str = "",
) -> LiveSession:
    """A session for the given groups of ``course`` (none: the whole course); every current
    member is invited, through the outbox, once."""
    _check_actor(actor)
    groups = list(groups)
    errors, meeting_url = _clean(
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        meeting_url=meeting_url,
        now=now or timezone.now(),
    )
    if any(group.course_id != course.pk for group in groups):
        errors["groups"] = [_("Choose groups of this course.")]
    if errors:
        raise ValidationFailed(errors)
    session = LiveSession.objects.create(
        course=course,
        teacher=teacher,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        meeting_url=meeting_url,
        description=description.strip(),
        created_by=actor,
    )
    members = Membership.objects.filter(course=course, ended_at=None)
    if groups:
        session.groups.set(groups)
        members = members.filter(group__in=groups)
    student_ids = sorted(set(members.values_list("student_id", flat=True)))
    Invitation.objects.bulk_create(
        [Invitation(session=session, user_id=student_id) for student_id in student_ids]
    )
    session.course = course
    users = list(User.objects.filter(pk__in=student_ids).order_by("pk"))
    notify_many(
        recipients=[(user, None) for user in users],
        kind="session_invitation",
        context=_context(session),
        dedup_key=f"session_invitation:{session.pk}",
    )
    record_change(
        actor=actor,
        action="groups.session_create",
        obj=session,
        after={
            **snapshot(session, SESSION_AUDIT),
            "groups": sorted(group.pk for group in groups),
            "invited": len(student_ids),
        },
        reason=reason,
    )
    return session


@transaction.atomic
def session_update(
    *,
    actor: User,
    session: LiveSession,
    starts_at: datetime,
    duration_minutes: int,
    meeting_url: str | None = None,
    description: str | None = None,
    teacher: User | None = None,
    now: datetime | None = None,
    reason: str = "",
) -> LiveSession:
    """Move or change a session; when its time changes every member is told (once per new
    time)."""
    _check_actor(actor)
    session = LiveSession.objects.select_for_update().select_related("course").get(pk=session.pk)
    if session.is_cancelled:
        raise SessionCancelled(_("This session was cancelled: it cannot be changed."))
    errors, cleaned_url = _clean(
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        meeting_url=session.meeting_url if meeting_url is None else meeting_url,
        now=now or timezone.now(),
    )
    if errors:
        raise ValidationFailed(errors)
    moved = starts_at != session.starts_at or duration_minutes != session.duration_minutes
    before = snapshot(session, SESSION_AUDIT)
    session.starts_at = starts_at
    session.duration_minutes = duration_minutes
    session.meeting_url = cleaned_url
    if description is not None:
        session.description = description.strip()
    if teacher is not None:
        session.teacher = teacher
    session.save()
    if moved:
        notify_many(
            recipients=[(user, None) for user in _invited(session)],
            kind="session_moved",
            context=_context(session),
            dedup_key=f"session_moved:{session.pk}:{starts_at.isoformat()}:{duration_minutes}",
        )
    record_change(
        actor=actor,
        action="groups.session_move" if moved else "groups.session_update",
        obj=session,
        before=before,
        after=snapshot(session, SESSION_AUDIT),
        reason=reason,
        changed_only=True,
    )
    return session


@transaction.atomic
def session_cancel(*, actor: User, session: LiveSession, reason: str = "") -> LiveSession:
    """Cancel the session and tell every member; cancelling twice is refused."""
    _check_actor(actor)
    session = LiveSession.objects.select_for_update().select_related("course").get(pk=session.pk)
    if session.is_cancelled:
        raise SessionCancelled(_("This session is already cancelled."))
    session.cancelled_at = timezone.now()
    session.save(update_fields=["cancelled_at", "updated_at"])
    notify_many(
        recipients=[(user, None) for user in _invited(session)],
        kind="session_cancelled",
        context=_context(session),
        dedup_key=f"session_cancelled:{session.pk}",
    )
    record_change(
        actor=actor,
        action="groups.session_cancel",
        obj=session,
        before={"cancelled_at": None},
        after={"cancelled_at": session.cancelled_at},
        reason=reason,
    )
    return session


# --- Answers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    invitation: Invitation
    # False: the invitation already had this answer (a second click), nothing changed.
    changed: bool

    def message(self) -> str:
        accepted = self.invitation.response == Response.ACCEPTED
        if not self.changed:
            if accepted:
                return _("You have already accepted this invitation.")
            return _("You have already declined this invitation.")
        if accepted:
            return _("Thank you: you accepted the invitation.")
        return _("Noted: you declined the invitation.")


@transaction.atomic
def invitation_respond(
    *, user: User, invitation_id: int, response: str, now: datetime | None = None
) -> Answered:
    """Record ``user``'s answer to their invitation. Another person's invitation, a cancelled
    or finished session are refused; the same answer twice changes nothing."""
    if response not in (Response.ACCEPTED, Response.DECLINED):
        raise ValidationFailed({"response": [_("Answer accepted or declined.")]})
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("session")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        raise NotFound(_("There is no such invitation."))
    if invitation.user_id != user.pk:
        raise PermissionDenied(_("This invitation is not yours."))
    session = invitation.session
    if session.is_cancelled:
        raise SessionCancelled(_("This session was cancelled."))
    now = now or timezone.now()
    if session.starts_at + timedelta(minutes=session.duration_minutes) <= now:
        raise Conflict(_("This session is over."))
    if invitation.response == response:
        return Answered(invitation, changed=False)
    invitation.response = response
    invitation.responded_at = now
    invitation.save(update_fields=["response", "responded_at", "updated_at"])
    return Answered(invitation, changed=True)


def respond_token(*, session_id: int, user_id: int, response: str) -> str:
    # No timestamp: the same link every time, and an old email still answers.
    signer = signing.Signer(salt=RESPOND_SALT)
    return signer.sign_object({"s": session_id, "u": user_id, "r": response})


def respond_url(*, session_id: int, user_id: int, response: str) -> str:
    token = respond_token(session_id=session_id, user_id=user_id, response=response)
    path = reverse("groups:session-respond-link", args=[token])
    return settings.PARTA_SITE_URL.rstrip("/") + path


def invitation_by_token(*, token: str) -> tuple[Invitation, str]:
    """The invitation and the answer an email's link names (its token is signed and never
    expires); NotFound for a forged or stale link. Records nothing."""
    invalid = NotFound(_("This link is not valid."))
    try:
        data = signing.Signer(salt=RESPOND_SALT).unsign_object(token)
        session_id, user_id, response = int(data["s"]), int(data["u"]), str(data["r"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise invalid from None
    if response not in (Response.ACCEPTED, Response.DECLINED):
        raise invalid
    invitation = (
        Invitation.objects.filter(session_id=session_id, user_id=user_id)
        .select_related("user", "session__course")
        .first()
    )
    if invitation is None:
        raise invalid
    return invitation, response


def invitation_respond_by_token(*, token: str) -> Answered:
    """Record the answer an email's link names (the button on the page the link opens)."""
    invitation, response = invitation_by_token(token=token)
    return invitation_respond(user=invitation.user, invitation_id=invitation.pk, response=response)


def invitation_buttons(*, user: User, context: dict) -> list[list[tuple[str, str]]]:
    """Accept / Decline under the Telegram invitation (the session_invitation kind)."""
    invitation_id = (
        Invitation.objects.filter(session_id=context.get("session_id"), user=user)
        .values_list("pk", flat=True)
        .first()
    )
    if invitation_id is None:
        return []
    return [
        [
            (_("Accept"), f"{CALLBACK_PREFIX}:{Response.ACCEPTED}:{invitation_id}"),
            (_("Decline"), f"{CALLBACK_PREFIX}:{Response.DECLINED}:{invitation_id}"),
        ]
    ]


# --- The reminder ------------------------------------------------------------------


def sessions_remind(*, now: datetime | None = None) -> int:
    """Remind, with the meeting link, everyone who did not decline a session starting within
    the live setting SESSION_REMIND_MINUTES (PARTA_SESSION_REMIND_MINUTES until staff set
    it). Safe to run twice, and by two workers at once: the dedup key is the session and its
    start, so each person is reminded once per start time. The number of sessions looked
    at."""
    now = now or timezone.now()
    soon = now + timedelta(minutes=live("SESSION_REMIND_MINUTES"))
    sessions = list(
        LiveSession.objects.filter(cancelled_at=None, starts_at__gt=now, starts_at__lte=soon)
        .select_related("course", "teacher")
        .order_by("starts_at", "id")
    )
    for session in sessions:
        with transaction.atomic():
            users = [
                invitation.user
                for invitation in session.invitations.exclude(response=Response.DECLINED)
                .select_related("user")
                .order_by("id")
            ]
            notify_many(
                recipients=[(user, None) for user in users],
                kind="session_reminder",
                context={**_context(session), "meeting_url": session.meeting_url},
                dedup_key=f"session_reminder:{session.pk}:{session.starts_at.isoformat()}",
            )
    return len(sessions)


# --- Attendance --------------------------------------------------------------------


def may_see_session(*, user: User, session: LiveSession) -> bool:
    """Who sees the meeting link and the responses: staff, moderators, the teacher."""
    return may_manage_groups(user) or (user.is_authenticated and session.teacher_id == user.pk)


@transaction.atomic
def attendance_mark(
    *,
    actor: User,
    session: LiveSession,
    attended: dict[int, bool],
    now: datetime | None = None,
    reason: str = "",
) -> int:
    """After the start, the teacher (or staff, moderators) marks who attended: ``attended``
    maps invitation ids of this session to True/False. The number of invitations changed."""
    if not may_see_session(user=actor, session=session):
        raise PermissionDenied(_("Only the teacher, moderators and staff mark attendance."))
    if session.is_cancelled:
        raise SessionCancelled(_("This session was cancelled."))
    if session.starts_at > (now or timezone.now()):
        raise Conflict(_("Attendance is marked after the session starts."))
    invitations = {
        invitation.pk: invitation
        for invitation in Invitation.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(session=session, pk__in=list(attended))
    }
    unknown = [pk for pk in attended if pk not in invitations]
    if unknown:
        raise ValidationFailed({"attended": [_("Some of these people were not invited.")]})
    changed = []
    for pk, value in attended.items():
        invitation = invitations[pk]
        if invitation.attended is not bool(value):
            # One entry per person, on their card: who marked them, from what to what.
            record_change(
                actor=actor,
                action="groups.attendance_mark",
                obj=session,
                subject=invitation.user,
                before={"invitation": pk, "attended": invitation.attended},
                after={"invitation": pk, "attended": bool(value)},
                reason=reason,
            )
            invitation.attended = bool(value)
            changed.append(invitation)
    Invitation.objects.bulk_update(changed, ["attended"])
    return len(changed)


# --- Checking answers before a session is made -------------------------------------


def session_fields_errors(
    *,
    starts_at: datetime | None = None,
    duration_minutes: int | None = None,
    meeting_url: str | None = None,
    now: datetime | None = None,
) -> dict[str, list[str]]:
    """``session_create``'s own rules (``_clean``) for the fields given, before anything is
    made: ``{field: [messages]}`` for those that break them, empty when all pass. A dialogue
    that asks one field at a time (the bot's /newsession) checks each answer with this;
    ``session_create`` checks them all again, by the same code, when the session is made."""
    now = now or timezone.now()
    given = {
        "starts_at": starts_at,
        "duration_minutes": duration_minutes,
        "meeting_url": meeting_url,
    }
    errors, _url = _clean(
        starts_at=now + timedelta(days=1) if starts_at is None else starts_at,
        duration_minutes=60 if duration_minutes is None else duration_minutes,
        meeting_url=meeting_url or "",
        now=now,
    )
    return {field: messages for field, messages in errors.items() if given[field] is not None}
