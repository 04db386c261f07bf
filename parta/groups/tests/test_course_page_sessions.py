"""The course page shows the student's upcoming sessions of that course (and only those),
through the groups' template tag, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.queries import count_queries
from parta.groups.models import Invitation, Response
from parta.groups.services import membership_place
from parta.groups.sessions import invitation_respond, session_cancel, session_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def course():
    return CourseFactory(slug="geometry", title="Geometry", max_group_size=10)


@pytest.fixture
def student(client, course):
    person = UserFactory(language="en")
    AccessGrantFactory(user=person, course=course)
    membership_place(student=person, course_id=course.pk)
    client.force_login(person)
    return person


def _plan(course, *, days=1, hours=0):
    return session_create(
        actor=ModeratorFactory(),
        course=course,
        teacher=ModeratorFactory(full_name="Ivan Teacher"),
        starts_at=timezone.now() + timedelta(days=days, hours=hours),
        duration_minutes=45,
        meeting_url="https://meet.example.com/room",
    )


def test_the_course_page_lists_my_upcoming_sessions_of_that_course(client, course, student):
    mine = _plan(course)
    cancelled = _plan(course, days=2)
    session_cancel(actor=ModeratorFactory(), session=cancelled)
    accepted = _plan(course, days=3)
    invitation = Invitation.objects.get(session=accepted, user=student)
    invitation_respond(user=student, invitation_id=invitation.pk, response=Response.ACCEPTED)
    past = _plan(course, days=-2)  # planned as if it were ahead, then it went by
    other_course = CourseFactory(title="Algebra", max_group_size=10)
    membership_place(student=student, course_id=other_course.pk)
    elsewhere = _plan(other_course)
    html = client.get(reverse("learning:course", args=[course.slug])).content.decode()
    assert 'data-testid="course-sessions"' in html
    assert "Ivan Teacher" in html
    assert reverse("groups:session-ics", args=[mine.pk]) in html
    assert reverse("groups:session-ics", args=[accepted.pk]) in html
    assert "Accepted" in html
    assert "Cancelled." in html
    assert reverse("groups:session-ics", args=[past.pk]) not in html
    assert reverse("groups:session-ics", args=[elsewhere.pk]) not in html


@pytest.fixture(autouse=True)
def _planning_in_the_past_allowed(monkeypatch):
    # _plan(days=-2) stands for a session that was ahead when it was planned.
    import parta.groups.sessions as sessions

    real = sessions._clean

    def clean(**kwargs):
        kwargs["now"] = kwargs["starts_at"] - timedelta(days=1)
        return real(**kwargs)

    monkeypatch.setattr(sessions, "_clean", clean)


def test_no_block_without_sessions_nor_for_someone_without_access(client, course, student):
    url = reverse("learning:course", args=[course.slug])
    assert 'data-testid="course-sessions"' not in client.get(url).content.decode()
    _plan(course)
    client.force_login(UserFactory())
    assert 'data-testid="course-sessions"' not in client.get(url).content.decode()


def test_the_course_page_reads_in_a_fixed_number_of_queries(client, course, student):
    url = reverse("learning:course", args=[course.slug])
    _plan(course)
    client.get(url)  # the access answer is cached from then on
    with count_queries() as few:
        assert client.get(url).status_code == 200
    for n in range(2, 8):
        _plan(course, days=n)
    with count_queries() as more:
        assert client.get(url).status_code == 200
    assert len(more) == len(few) <= 12
    assert sum("groups_invitation" in sql for sql in more) == 1  # the block's one query
