"""The live sessions API: mine and my answer; plan, change, cancel, responses and
attendance for moderators and staff; errors in the one error shape."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.groups.models import Group, Invitation, LiveSession, Response
from parta.groups.services import membership_place
from parta.notifications.models import Message

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(user)
    return api


@pytest.fixture
def course():
    return CourseFactory(max_group_size=2)


@pytest.fixture
def students(course):
    people = [UserFactory() for _ in range(3)]
    for person in people:
        membership_place(student=person, course_id=course.pk)
    return people


def _plan(api, course, **fields):
    body = {
        "starts_at": (timezone.now() + timedelta(days=1)).isoformat(),
        "duration_minutes": 60,
        **fields,
    }
    return api.post(f"/api/v1/courses/{course.pk}/sessions/", body, format="json")


def test_a_moderator_plans_moves_and_cancels_a_session(course, students):
    moderator = api_for(ModeratorFactory())
    group = Group.objects.get(course=course, number=1)
    created = _plan(moderator, course, groups=[group.pk], meeting_url="https://m.example/a")
    assert created.status_code == 201, created.json()
    session_id = created.json()["id"]
    assert LiveSession.objects.get().invitations.count() == 2
    listed = moderator.get(f"/api/v1/courses/{course.pk}/sessions/").json()
    assert [s["id"] for s in listed] == [session_id]

    later = (timezone.now() + timedelta(days=2)).isoformat()
    moved = moderator.patch(f"/api/v1/sessions/{session_id}/", {"starts_at": later}, format="json")
    assert moved.status_code == 200
    assert Message.objects.filter(kind="session_moved", channel="email").count() == 2

    cancelled = moderator.post(f"/api/v1/sessions/{session_id}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["cancelled_at"] is not None
    again = moderator.post(f"/api/v1/sessions/{session_id}/cancel/")
    assert again.status_code == 409
    assert again.json()["code"] == "session_cancelled"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"starts_at": "2020-01-01T10:00:00Z"}, "starts_at"),
        ({"duration_minutes": 721}, "duration_minutes"),
        ({"meeting_url": "ftp://example.com/x"}, "meeting_url"),
    ],
)
def test_bad_sessions_are_refused_with_the_field(course, students, fields, field):
    answer = _plan(api_for(ModeratorFactory()), course, **fields)
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert not LiveSession.objects.exists()


def test_students_cannot_plan_or_read_responses(course, students):
    student = api_for(students[0])
    assert _plan(student, course).status_code == 403
    _plan(api_for(ModeratorFactory()), course)
    session = LiveSession.objects.get()
    assert student.get(f"/api/v1/sessions/{session.pk}/responses/").status_code == 404


def test_my_sessions_and_my_answer(course, students):
    _plan(api_for(ModeratorFactory()), course, meeting_url="https://m.example/b")
    me = api_for(students[0])
    [mine] = me.get("/api/v1/sessions/mine/").json()
    assert mine["response"] == "none"
    assert mine["session"]["meeting_url"] == "https://m.example/b"
    url = f"/api/v1/sessions/invitations/{mine['invitation']}/answer/"
    first = me.post(url, {"response": "accepted"}, format="json").json()
    assert first["changed"] is True
    second = me.post(url, {"response": "accepted"}, format="json").json()
    assert second == {
        **first,
        "changed": False,
        "detail": "You have already accepted this invitation.",
    }
    theirs = api_for(students[1]).post(url, {"response": "declined"}, format="json")
    assert theirs.status_code == 403
    bad = me.post(url, {"response": "maybe"}, format="json")
    assert bad.status_code == 400
    assert Invitation.objects.get(pk=mine["invitation"]).response == Response.ACCEPTED


def test_responses_and_attendance(course, students):
    teacher = ModeratorFactory()
    created = _plan(api_for(ModeratorFactory()), course, teacher=teacher.pk).json()
    api = api_for(teacher)
    responses = api.get(f"/api/v1/sessions/{created['id']}/responses/").json()
    assert [r["response"] for r in responses] == ["none"] * 3
    early = api.post(
        f"/api/v1/sessions/{created['id']}/responses/",
        {"marks": [{"invitation": responses[0]["id"], "attended": True}]},
        format="json",
    )
    assert early.status_code == 409
    LiveSession.objects.filter(pk=created["id"]).update(
        starts_at=timezone.now() - timedelta(minutes=5)
    )
    marked = api.post(
        f"/api/v1/sessions/{created['id']}/responses/",
        {"marks": [{"invitation": responses[0]["id"], "attended": True}]},
        format="json",
    )
    assert marked.status_code == 200
    assert {r["id"]: r["attended"] for r in marked.json()}[responses[0]["id"]] is True
