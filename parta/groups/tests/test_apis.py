"""The groups API: a student's own groups; groups, members, renames and moves for
moderators and staff; errors in the one error shape."""

import pytest
from rest_framework.test import APIClient

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.queries import count_queries
from parta.groups.models import Group, Membership
from parta.groups.services import group_update, membership_place

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _batch(settings):
    settings.PARTA_GROUPS_BATCH = 2


@pytest.fixture
def course():
    return CourseFactory(slug="algebra", title="Алгебра", max_group_size=2)


def api_for(user) -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(user)
    return api


def place(course, **fields):
    student = UserFactory(**fields)
    membership_place(student=student, course_id=course.pk)
    return student


def group(course, number):
    return Group.objects.get(course=course, number=number)


def test_my_groups_show_the_group_and_teacher_only(course):
    me = place(course)
    place(course, full_name="Сосед", email="neighbour@example.com")
    teacher = ModeratorFactory(full_name="Мария Учителева")
    group_update(group=group(course, 1), by=teacher, name="", teacher=teacher)
    with count_queries() as queries:
        response = api_for(me).get("/api/v1/groups/mine/")
    assert response.status_code == 200
    assert len(queries) == 1
    [mine] = response.json()
    assert mine["course"] == {"id": course.pk, "slug": "algebra", "title": "Алгебра"}
    assert mine["group"]["name"] == "Group 1"
    assert mine["group"]["teacher"] == {"id": teacher.pk, "full_name": "Мария Учителева"}
    assert (mine["group"]["members"], mine["group"]["size"], mine["group"]["full"]) == (2, 2, True)
    assert "neighbour@example.com" not in response.content.decode()
    assert api_for(UserFactory()).get("/api/v1/groups/mine/").json() == []
    assert APIClient().get("/api/v1/groups/mine/").status_code == 401


def test_staff_endpoints_refuse_students(course):
    student = place(course)
    api = api_for(student)
    first = group(course, 1).pk
    for method, url in (
        ("get", f"/api/v1/courses/{course.pk}/groups/"),
        ("get", f"/api/v1/groups/{first}/"),
        ("patch", f"/api/v1/groups/{first}/"),
        ("get", f"/api/v1/groups/{first}/members/"),
        ("post", f"/api/v1/groups/{first}/members/"),
    ):
        response = getattr(api, method)(url, {}, format="json")
        assert response.status_code == 403, url
        assert response.json()["code"] == "permission_denied"


def test_a_courses_groups_with_their_fill_in_a_fixed_number_of_queries(course):
    api = api_for(ModeratorFactory())
    place(course)

    def listing():
        with count_queries() as queries:
            response = api.get(f"/api/v1/courses/{course.pk}/groups/")
        assert response.status_code == 200
        return response.json(), len(queries)

    few, queries = listing()
    assert few["count"] == 2
    assert [(g["number"], g["members"], g["full"]) for g in few["results"]] == [
        (1, 1, False),
        (2, 0, False),
    ]
    teacher = ModeratorFactory()
    for _ in range(9):
        place(course)
    for g in Group.objects.filter(course=course):
        group_update(group=g, by=teacher, name="", teacher=teacher)
    more, more_queries = listing()
    assert more["count"] == 6
    assert more_queries == queries == 3  # the course, the count, the page
    page = api.get(f"/api/v1/courses/{course.pk}/groups/?limit=2&offset=4").json()
    assert [g["number"] for g in page["results"]] == [5, 6]
    assert api.get("/api/v1/courses/9223372036854775807/groups/").status_code == 404


def test_rename_and_teacher_through_the_api(course):
    place(course)
    first = group(course, 1)
    api = api_for(ModeratorFactory())
    teacher = ModeratorFactory()
    response = api.patch(f"/api/v1/groups/{first.pk}/", {"name": "Утро"}, format="json")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["teacher"]) == ("Утро", None)
    response = api.patch(f"/api/v1/groups/{first.pk}/", {"teacher": teacher.pk}, format="json")
    assert response.json()["name"] == "Утро"  # only what was sent changes
    assert response.json()["teacher"]["id"] == teacher.pk
    bad = api.patch(f"/api/v1/groups/{first.pk}/", {"teacher": UserFactory().pk}, format="json")
    assert bad.status_code == 400
    assert "teacher" in bad.json()["errors"]
    missing = api.patch(f"/api/v1/groups/{first.pk}/", {"teacher": 10**12}, format="json")
    assert missing.status_code == 404
    long = api.patch(f"/api/v1/groups/{first.pk}/", {"name": "x" * 101}, format="json")
    assert long.status_code == 400
    assert "name" in long.json()["errors"]
    cleared = api.patch(
        f"/api/v1/groups/{first.pk}/", {"name": "", "teacher": None}, format="json"
    )
    assert (cleared.json()["name"], cleared.json()["teacher"]) == ("Group 1", None)
    assert api.get("/api/v1/groups/9223372036854775807/").status_code == 404


def test_members_and_moves(course):
    ann = place(course, full_name="Анна", email="ann@example.com", phone="+79990001122")
    place(course)
    bob = place(course)
    first, second = group(course, 1), group(course, 2)
    moderator = ModeratorFactory()
    api = api_for(moderator)
    members = api.get(f"/api/v1/groups/{first.pk}/members/").json()
    assert members[0]["student"] == {
        "id": ann.pk,
        "full_name": "Анна",
        "email": "ann@example.com",
        "phone": "+79990001122",
    }
    assert members[0]["moved_in_by"] is None
    url = f"/api/v1/groups/{first.pk}/members/"
    full = api.post(url, {"student": bob.pk}, format="json")
    assert full.status_code == 409
    assert full.json() == {
        "detail": "Group 1 is full: 2 of 2 seats are taken.",
        "code": "group_full",
        "errors": {"group": ["Group 1 is full: 2 of 2 seats are taken."]},
    }
    assert api.post(url, {"student": bob.pk, "override": True}, format="json").status_code == 403
    assert Membership.objects.get(student=bob, ended_at=None).group == second
    moved = api_for(StaffFactory()).post(url, {"student": bob.pk, "override": True}, format="json")
    assert moved.status_code == 201
    assert moved.json()["student"]["id"] == bob.pk
    first.refresh_from_db()
    assert first.members_count == 3
    # Back into the group with seats, by a moderator.
    back = api.post(f"/api/v1/groups/{second.pk}/members/", {"student": bob.pk}, format="json")
    assert back.status_code == 201
    assert back.json()["moved_in_by"]["id"] == moderator.pk
    # Bad input: clear messages, nothing changed.
    stranger = UserFactory()
    outside = api.post(url, {"student": stranger.pk}, format="json")
    assert outside.status_code == 400
    assert "student" in outside.json()["errors"]
    assert api.post(url, {"student": 10**12}, format="json").status_code == 404
    assert api.post(url, {"student": 2**63}, format="json").status_code == 400
    assert api.post(url, {}, format="json").status_code == 400
    same = api.post(f"/api/v1/groups/{second.pk}/members/", {"student": bob.pk}, format="json")
    assert same.status_code == 400
    assert Membership.objects.filter(ended_at=None).count() == 3
