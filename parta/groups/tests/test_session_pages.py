"""The student's live sessions at /sessions/: what they see, answering there, and a query
count that does not grow with sessions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.queries import count_queries
from parta.groups.models import Invitation, Response
from parta.groups.services import membership_place
from parta.groups.sessions import session_cancel, session_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def course():
    return CourseFactory(title="Geometry", max_group_size=10)


@pytest.fixture
def student(client, course):
    person = UserFactory(language="en")
    membership_place(student=person, course_id=course.pk)
    client.force_login(person)
    return person


def _session(course, **fields):
    return session_create(
        actor=ModeratorFactory(),
        course=course,
        starts_at=fields.pop("starts_at", timezone.now() + timedelta(days=1)),
        duration_minutes=60,
        meeting_url=fields.pop("meeting_url", "https://meet.example.com/room-1"),
        **fields,
    )


def test_upcoming_sessions_show_the_link_and_the_answer_buttons(client, course, student):
    session = _session(course, description="Triangles")
    page = client.get(reverse("groups:my-sessions")).content.decode()
    assert "Geometry" in page
    assert "Triangles" in page
    assert "https://meet.example.com/room-1" in page
    invitation = Invitation.objects.get(session=session, user=student)
    assert reverse("groups:my-session-respond", args=[invitation.pk]) in page


def test_a_student_accepts_on_the_site_once(client, course, student):
    session = _session(course)
    invitation = Invitation.objects.get(session=session, user=student)
    url = reverse("groups:my-session-respond", args=[invitation.pk])
    first = client.post(url, {"response": "accepted"}, follow=True)
    assert "Thank you: you accepted the invitation." in first.content.decode()
    again = client.post(url, {"response": "accepted"}, follow=True)
    assert "You have already accepted this invitation." in again.content.decode()
    invitation.refresh_from_db()
    assert invitation.response == Response.ACCEPTED


def test_another_persons_invitation_or_a_cancelled_session_is_refused_on_the_site(
    client, course, student
):
    other = UserFactory()
    membership_place(student=other, course_id=course.pk)
    session = _session(course)
    theirs = Invitation.objects.get(session=session, user=other)
    page = client.post(
        reverse("groups:my-session-respond", args=[theirs.pk]),
        {"response": "accepted"},
        follow=True,
    )
    assert "This invitation is not yours." in page.content.decode()
    session_cancel(actor=ModeratorFactory(), session=session)
    mine = Invitation.objects.get(session=session, user=student)
    page = client.post(
        reverse("groups:my-session-respond", args=[mine.pk]), {"response": "accepted"}, follow=True
    )
    assert "This session was cancelled." in page.content.decode()
    assert not Invitation.objects.exclude(response=Response.NONE).exists()


def test_people_not_invited_do_not_see_the_link(client, course, student):
    _session(course)
    client.force_login(UserFactory())
    page = client.get(reverse("groups:my-sessions")).content.decode()
    assert "meet.example.com" not in page
    assert "No live sessions are planned for you." in page


def test_the_page_reads_in_a_fixed_number_of_queries(client, course, student):
    def count() -> int:
        with count_queries() as queries:
            assert client.get(reverse("groups:my-sessions")).status_code == 200
        return len(queries)

    _session(course)
    count()  # the first visit makes the calendar link
    few = count()
    for hours in range(2, 8):
        _session(course, starts_at=timezone.now() + timedelta(hours=hours), teacher=UserFactory())
    assert count() == few
    # Session and user, the bell, the invitations with sessions, courses and teachers, the
    # calendar link.
    assert few == 5


# --- The workspace ---------------------------------------------------------------------


def _local(moment) -> str:
    from parta.common.time import school_tz

    return moment.astimezone(school_tz()).strftime("%Y-%m-%dT%H:%M")


def test_a_moderator_plans_a_session_for_a_group_and_members_are_invited(client, course):
    from parta.groups.models import Group, LiveSession
    from parta.notifications.models import Message

    students = [UserFactory() for _ in range(3)]
    for person in students:
        membership_place(student=person, course_id=course.pk)
    group = Group.objects.get(course=course, number=1)
    client.force_login(ModeratorFactory())
    url = reverse("groups:course-sessions", args=[course.pk])
    starts = timezone.now() + timedelta(days=2)
    response = client.post(
        url,
        {
            "groups": [group.pk],
            "starts_at": _local(starts),
            "duration_minutes": 45,
            "meeting_url": "",
            "description": "Revision",
        },
    )
    session = LiveSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("groups:session", args=[session.pk])
    assert session.meeting_url.startswith("https://meet.jit.si/Parta-")
    assert session.invitations.count() == 3
    assert Message.objects.filter(kind="session_invitation", channel="email").count() == 3
    page = client.get(response["Location"]).content.decode()
    assert "No answer (3)" in page


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"starts_at": "2020-01-01T10:00"}, "A session cannot start in the past."),
        ({"duration_minutes": 721}, "Ensure this value is less than or equal to 720."),
        ({"meeting_url": "javascript:alert(1)"}, "The meeting link must be an http or https"),
    ],
)
def test_bad_input_on_the_form_is_shown_and_nothing_is_stored(client, course, fields, error):
    from parta.groups.models import LiveSession

    client.force_login(ModeratorFactory())
    data = {
        "starts_at": _local(timezone.now() + timedelta(days=1)),
        "duration_minutes": 60,
        **fields,
    }
    response = client.post(reverse("groups:course-sessions", args=[course.pk]), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not LiveSession.objects.exists()


def test_moving_and_cancelling_from_the_session_page(client, course, student):
    from parta.notifications.models import Message

    session = _session(course)
    client.force_login(ModeratorFactory())
    url = reverse("groups:session", args=[session.pk])
    later = session.starts_at + timedelta(hours=3)
    response = client.post(url, {"starts_at": _local(later), "duration_minutes": 60})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.starts_at == later.replace(second=0, microsecond=0)
    assert Message.objects.filter(kind="session_moved", user=student).exists()
    client.post(reverse("groups:session-cancel", args=[session.pk]))
    session.refresh_from_db()
    assert session.is_cancelled
    assert Message.objects.filter(kind="session_cancelled", user=student).exists()


def test_students_and_strangers_cannot_open_the_session_page(client, course, student):
    session = _session(course)
    assert client.get(reverse("groups:session", args=[session.pk])).status_code == 404
    assert client.get(reverse("groups:course-sessions", args=[course.pk])).status_code == 403


def test_the_teacher_sees_responses_and_marks_attendance_after_the_start(client, course, student):
    from parta.groups.sessions import invitation_respond

    teacher = ModeratorFactory(full_name="Teacher T")
    session = _session(course, teacher=teacher, starts_at=timezone.now() + timedelta(minutes=5))
    invitation = Invitation.objects.get(session=session, user=student)
    invitation_respond(user=student, invitation_id=invitation.pk, response="accepted")
    client.force_login(teacher)
    page = client.get(reverse("groups:session", args=[session.pk])).content.decode()
    assert "Accepted (1)" in page
    assert "Attendance" not in page
    type(session).objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(minutes=1)
    )
    page = client.get(reverse("groups:session", args=[session.pk])).content.decode()
    assert f'name="attended_{invitation.pk}"' in page
    client.post(
        reverse("groups:session-attendance", args=[session.pk]),
        {f"attended_{invitation.pk}": "on"},
    )
    invitation.refresh_from_db()
    assert invitation.attended is True


def test_workspace_pages_read_a_fixed_number_of_queries(client, course):
    from parta.groups.models import LiveSession

    client.force_login(ModeratorFactory())

    def counts(session) -> tuple[int, int]:
        found = []
        for url in (
            reverse("groups:course-sessions", args=[course.pk]),
            reverse("groups:session", args=[session.pk]),
        ):
            with count_queries() as queries:
                assert client.get(url).status_code == 200
            found.append(len(queries))
        return tuple(found)

    first = _session(course)
    few = counts(first)
    for _ in range(6):
        membership_place(student=UserFactory(), course_id=course.pk)
    for hours in range(2, 6):
        _session(course, starts_at=timezone.now() + timedelta(hours=hours))
    last = LiveSession.objects.order_by("-id").first()
    assert counts(last) == few
    # Session, user, the bell and the inbox count; then the course, its sessions, the groups
    # and teachers offered; or the session, its responses, its groups and the teachers.
    assert few == (8, 8)
