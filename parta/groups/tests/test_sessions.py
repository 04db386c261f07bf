"""Live sessions: validation, invitations through the outbox (email and the fake Bot API),
answers by email link and on the site, the reminder with the clock moved, moves and
cancellations, attendance."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from parta.groups.models import Invitation, Response
from parta.groups.services import membership_place
from parta.groups.sessions import (
    attendance_mark,
    invitation_respond,
    respond_url,
    session_cancel,
    session_create,
    session_update,
    sessions_remind,
)
from parta.notifications.models import Message
from parta.notifications.tasks import deliver_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def course():
    return CourseFactory(max_group_size=2, title="Algebra")


@pytest.fixture
def moderator():
    return ModeratorFactory()


@pytest.fixture
def students(course):
    people = [
        UserFactory(language="en", telegram_chat_id=990001 + i, email=f"s{i}@example.com")
        for i in range(3)
    ]
    for person in people:
        membership_place(student=person, course_id=course.pk)
    return people


def _create(moderator, course, **fields):
    values = {
        "actor": moderator,
        "course": course,
        "starts_at": timezone.now() + timedelta(days=1),
        "duration_minutes": 90,
        **fields,
    }
    return session_create(**values)


# --- Validation ---------------------------------------------------------------------


def test_a_session_in_the_past_is_refused(moderator, course, students):
    with pytest.raises(ValidationFailed) as caught:
        _create(moderator, course, starts_at=timezone.now() - timedelta(minutes=1))
    assert caught.value.errors == {"starts_at": ["A session cannot start in the past."]}
    assert not Invitation.objects.exists()
    assert not Message.objects.exists()


def test_a_session_longer_than_twelve_hours_is_refused(moderator, course):
    _create(moderator, course, duration_minutes=720)
    with pytest.raises(ValidationFailed) as caught:
        _create(moderator, course, duration_minutes=721)
    assert caught.value.errors == {"duration_minutes": ["A session lasts at most 12 hours."]}


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "ftp://example.com/room", "meet.example.com", "http://"]
)
def test_a_link_that_is_not_http_is_refused(moderator, course, link):
    with pytest.raises(ValidationFailed) as caught:
        _create(moderator, course, meeting_url=link)
    assert list(caught.value.errors) == ["meeting_url"]


def test_an_empty_link_becomes_a_jitsi_room(moderator, course, settings):
    settings.PARTA_JITSI_BASE_URL = "https://jitsi.example.org/rooms"
    first = _create(moderator, course)
    second = _create(moderator, course)
    assert re.fullmatch(r"https://jitsi\.example\.org/rooms/Parta-[\w-]{16}", first.meeting_url)
    assert first.meeting_url != second.meeting_url
    given = _create(moderator, course, meeting_url="https://zoom.example.com/j/1")
    assert given.meeting_url == "https://zoom.example.com/j/1"


def test_students_do_not_create_sessions(course, students):
    with pytest.raises(PermissionDenied):
        _create(students[0], course)


# --- Invitations --------------------------------------------------------------------


def test_members_of_the_chosen_group_only_are_invited(moderator, course, students):
    # Max size 2: the first two are in group 1, the third in group 2.
    first_group = students[0].group_memberships.get().group
    session = _create(moderator, course, groups=[first_group])
    assert set(session.invitations.values_list("user_id", flat=True)) == {
        students[0].pk,
        students[1].pk,
    }
    whole = _create(moderator, course)
    assert whole.invitations.count() == 3
    assert set(
        Message.objects.filter(dedup_key=f"session_invitation:{session.pk}").values_list(
            "user_id", "channel"
        )
    ) == {(s.pk, c) for s in students[:2] for c in ("email", "telegram", "site")}


def test_invitation_goes_to_telegram_with_buttons_and_by_email_with_links(
    moderator, course, students, telegram_peer, mailoutbox
):
    session = _create(moderator, course, meeting_url="https://meet.example.com/secret-room")
    deliver_due()
    sent = telegram_peer.sent(students[0].telegram_chat_id)
    assert len(sent) == 1
    invitation = Invitation.objects.get(session=session, user=students[0])
    [[accept, decline]] = sent[0].reply_markup["inline_keyboard"]
    assert (accept["text"], accept["callback_data"]) == ("Accept", f"inv:accepted:{invitation.pk}")
    assert (decline["text"], decline["callback_data"]) == (
        "Decline",
        f"inv:declined:{invitation.pk}",
    )
    assert "Algebra" in sent[0].text
    assert "secret-room" not in sent[0].text
    [email] = [m for m in mailoutbox if m.to == ["s0@example.com"]]
    assert "secret-room" not in email.body
    assert respond_url(session_id=session.pk, user_id=students[0].pk, response="accepted") in (
        email.body
    )
    assert "/sessions/respond/" in email.alternatives[0][0]


def test_the_email_link_to_decline_asks_before_declining(client, moderator, course, students):
    session = _create(moderator, course)
    link = respond_url(session_id=session.pk, user_id=students[1].pk, response="declined")
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert "Decline the invitation" in client.get(path).content.decode()
    invitation = Invitation.objects.get(session=session, user=students[1])
    assert invitation.response == Response.NONE
    client.post(path)
    invitation.refresh_from_db()
    assert invitation.response == Response.DECLINED


def test_the_email_link_records_the_answer_once_without_signing_in(
    client, moderator, course, students
):
    session = _create(moderator, course)
    link = respond_url(session_id=session.pk, user_id=students[0].pk, response="accepted")
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    # Opening the link (a mail scanner, a link preview, the student) records nothing: the
    # page asks, with a button.
    for _ in range(2):
        opened = client.get(path)
        assert opened.status_code == 200
        assert "Yes, I will come" in opened.content.decode()
    invitation = Invitation.objects.get(session=session, user=students[0])
    assert invitation.response == Response.NONE
    first = client.post(path)
    assert first.status_code == 200
    assert "Thank you: you accepted the invitation." in first.content.decode()
    invitation.refresh_from_db()
    answered_at = invitation.responded_at
    assert invitation.response == Response.ACCEPTED
    again = client.post(path)
    assert "You have already accepted this invitation." in again.content.decode()
    invitation.refresh_from_db()
    assert invitation.responded_at == answered_at


def test_a_forged_email_link_is_refused(client, moderator, course, students):
    session = _create(moderator, course)
    link = respond_url(session_id=session.pk, user_id=students[0].pk, response="accepted")
    token = link.rstrip("/").rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for response in (
        client.get(f"/sessions/respond/{forged}/"),
        client.post(f"/sessions/respond/{forged}/"),
    ):
        assert response.status_code == 404
        assert "This link is not valid." in response.content.decode()
    assert not Invitation.objects.exclude(response=Response.NONE).exists()


def test_answering_another_persons_or_a_cancelled_invitation_is_refused(
    moderator, course, students
):
    session = _create(moderator, course)
    mine = Invitation.objects.get(session=session, user=students[0])
    with pytest.raises(PermissionDenied):
        invitation_respond(user=students[1], invitation_id=mine.pk, response="accepted")
    with pytest.raises(NotFound):
        invitation_respond(user=students[1], invitation_id=mine.pk + 1000, response="accepted")
    session_cancel(actor=moderator, session=session)
    with pytest.raises(Conflict) as caught:
        invitation_respond(user=students[0], invitation_id=mine.pk, response="accepted")
    assert caught.value.message == "This session was cancelled."
    mine.refresh_from_db()
    assert mine.response == Response.NONE


# --- Moves, cancellations, reminders --------------------------------------------------


def test_a_moved_session_tells_every_member_once(moderator, course, students):
    session = _create(moderator, course)
    later = session.starts_at + timedelta(hours=2)
    session_update(actor=moderator, session=session, starts_at=later, duration_minutes=90)
    session_update(actor=moderator, session=session, starts_at=later, duration_minutes=90)
    moved = Message.objects.filter(kind="session_moved")
    assert moved.count() == 3 * 3
    assert moved.first().context["starts_at"] == later.isoformat()
    with pytest.raises(ValidationFailed):
        session_update(
            actor=moderator,
            session=session,
            starts_at=timezone.now() - timedelta(hours=1),
            duration_minutes=90,
        )


def test_a_cancelled_session_tells_every_member_and_cannot_be_cancelled_again(
    moderator, course, students
):
    session = _create(moderator, course)
    session_cancel(actor=moderator, session=session)
    assert Message.objects.filter(kind="session_cancelled").count() == 3 * 3
    with pytest.raises(Conflict):
        session_cancel(actor=moderator, session=session)


def test_the_reminder_comes_thirty_minutes_before_with_the_link_to_those_who_did_not_decline(
    moderator, course, students, settings
):
    settings.PARTA_SESSION_REMIND_MINUTES = 30
    now = timezone.now()
    session = _create(
        moderator, course, starts_at=now + timedelta(hours=2), meeting_url="https://m.example/r"
    )
    declined = Invitation.objects.get(session=session, user=students[2])
    invitation_respond(user=students[2], invitation_id=declined.pk, response="declined")
    reminders = Message.objects.filter(kind="session_reminder")
    # An hour and a half before: too early.
    assert sessions_remind(now=now + timedelta(minutes=89)) == 0
    assert not reminders.exists()
    # Twenty-nine minutes before: in the window; a second run (or a second worker) adds none.
    assert sessions_remind(now=now + timedelta(minutes=91)) == 1
    assert sessions_remind(now=now + timedelta(minutes=100)) == 1
    assert reminders.count() == 2 * 3
    assert set(reminders.values_list("user_id", flat=True)) == {students[0].pk, students[1].pk}
    assert reminders.first().context["meeting_url"] == "https://m.example/r"
    # After the start: nothing more.
    assert sessions_remind(now=now + timedelta(minutes=121)) == 0


def test_a_cancelled_session_is_not_reminded(moderator, course, students):
    now = timezone.now()
    session = _create(moderator, course, starts_at=now + timedelta(minutes=20))
    session_cancel(actor=moderator, session=session)
    assert sessions_remind(now=now) == 0
    assert not Message.objects.filter(kind="session_reminder").exists()


# --- Attendance ---------------------------------------------------------------------


def test_the_teacher_marks_attendance_after_the_start(moderator, course, students):
    teacher = UserFactory()
    now = timezone.now()
    session = _create(moderator, course, teacher=teacher, starts_at=now + timedelta(hours=1))
    ids = list(session.invitations.order_by("id").values_list("pk", flat=True))
    with pytest.raises(Conflict):
        attendance_mark(actor=teacher, session=session, attended={ids[0]: True})
    with pytest.raises(PermissionDenied):
        attendance_mark(
            actor=students[0],
            session=session,
            attended={ids[0]: True},
            now=now + timedelta(hours=2),
        )
    later = now + timedelta(hours=2)
    assert (
        attendance_mark(
            actor=teacher, session=session, attended={ids[0]: True, ids[1]: False}, now=later
        )
        == 2
    )
    assert attendance_mark(actor=teacher, session=session, attended={ids[0]: True}, now=later) == 0
    with pytest.raises(ValidationFailed):
        attendance_mark(actor=teacher, session=session, attended={ids[0] + 999: True}, now=later)
    assert dict(session.invitations.values_list("pk", "attended")) == {
        ids[0]: True,
        ids[1]: False,
        ids[2]: None,
    }


def test_the_reminder_runs_from_beat_and_reaches_telegram_with_the_link(
    moderator, course, students, telegram_peer, settings
):
    from parta.groups.tasks import remind_sessions

    entry = settings.CELERY_BEAT_SCHEDULE["remind-sessions"]
    assert entry["task"] == "groups.remind_sessions"
    _create(
        moderator,
        course,
        starts_at=timezone.now() + timedelta(minutes=10),
        meeting_url="https://m.example/room-9",
    )
    deliver_due()  # the invitations
    before = len(telegram_peer.sent(students[0].telegram_chat_id))
    assert remind_sessions.delay().get() == 1
    assert remind_sessions.delay().get() == 1  # twice: nothing sent twice
    deliver_due()
    reminders = telegram_peer.sent(students[0].telegram_chat_id)[before:]
    assert len(reminders) == 1
    assert "https://m.example/room-9" in reminders[0].text
    assert reminders[0].reply_markup is None
