import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.models import SolutionVisibility
from parta.catalog.tests.factories import CourseFactory, LessonFactory, TaskFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def _lessons(course_json):
    return {lesson["id"]: lesson for t in course_json["topics"] for lesson in t["lessons"]}


def test_courses_show_which_lessons_each_user_may_open(api, course, topic, student, outsider):
    paid = LessonFactory(topic=topic)
    free = LessonFactory(topic=topic, is_free_preview=True)
    CourseFactory(is_published=False, slug="draft")

    anonymous = api.get(reverse("api:courses")).json()
    assert [c["slug"] for c in anonymous] == ["algebra"]
    assert _lessons(anonymous[0])[paid.id]["available"] is False
    assert _lessons(anonymous[0])[free.id]["available"] is True

    api.force_authenticate(outsider)
    assert api.get(reverse("api:courses")).json()[0]["has_access"] is False

    api.force_authenticate(student)
    mine = api.get(reverse("api:courses")).json()[0]
    assert mine["has_access"] is True
    assert _lessons(mine)[paid.id]["available"] is True
    assert mine["price"] == {"amount": 199000, "currency": "RUB"}


def test_course_list_query_count_is_flat(api, student, django_assert_max_num_queries):
    for _ in range(3):
        course = CourseFactory()
        for _ in range(3):
            LessonFactory(topic=TopicFactory(course=course))
    api.force_authenticate(student)
    with django_assert_max_num_queries(6):
        assert len(api.get(reverse("api:courses")).json()) == 4


def test_course_detail_and_unknown(api, course):
    assert api.get(reverse("api:course", args=[course.slug])).json()["id"] == course.id
    missing = api.get(reverse("api:course", args=["nope"]))
    assert missing.status_code == 404
    assert missing.json()["detail"]


def test_answer_api_checks_and_keeps_the_key_secret(api, topic, student):
    task = TaskFactory(
        topic=topic,
        answer_text="secret-key",
        solution="why",
        solution_visibility=SolutionVisibility.AFTER_SOLVED,
    )
    api.force_authenticate(student)
    url = reverse("api:task-answer", args=[task.id])
    wrong = api.post(url, {"answer": "no"}, format="json").json()
    assert wrong == {
        "correct": False, "newly_solved": False, "solved": False, "attempts": 1,
        "replayed": False, "solution": None,
    }  # fmt: skip
    key = str(uuid.uuid4())
    right = api.post(url, {"answer": "SECRET-KEY", "client_key": key}, format="json").json()
    assert right["correct"]
    assert right["newly_solved"]
    assert right["solution"] == "why"
    assert "secret-key" not in str(right)
    replay = api.post(url, {"answer": "SECRET-KEY", "client_key": key}, format="json").json()
    assert replay["replayed"] is True
    assert replay["attempts"] == 2


@pytest.mark.parametrize(
    ("who", "payload", "status"),
    [
        ("outsider", {"answer": "42"}, 403),
        ("expired_student", {"answer": "42"}, 403),
        ("student", {}, 400),
        ("student", {"answer": "x" * 600}, 400),
    ],
)
def test_answer_api_refusals(request, api, task, who, payload, status):
    api.force_authenticate(request.getfixturevalue(who))
    response = api.post(reverse("api:task-answer", args=[task.id]), payload, format="json")
    assert response.status_code == status
    assert response.json()["detail"]


def test_answer_api_unknown_task_is_404(api, student):
    api.force_authenticate(student)
    response = api.post(reverse("api:task-answer", args=[999999]), {"answer": "1"}, format="json")
    assert response.status_code == 404


def test_number_answer_with_text_is_400(api, topic, student):
    task = TaskFactory(topic=topic, kind="number")
    api.force_authenticate(student)
    response = api.post(
        reverse("api:task-answer", args=[task.id]), {"answer": "abc"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["answer"]


def test_stats_api_for_me_and_for_moderators(api, course, task, student, outsider):
    api.force_authenticate(student)
    api.post(reverse("api:task-answer", args=[task.id]), {"answer": "42"}, format="json")
    mine = api.get(reverse("api:my-stats", args=[course.id])).json()
    assert mine["tasks_solved"] == 1
    assert mine["streak"] == 1
    assert len(mine["activity"]) == 90
    url = reverse("api:student-stats", args=[student.id, course.id])
    api.force_authenticate(outsider)
    assert api.get(url).status_code == 403
    api.force_authenticate(ModeratorFactory())
    assert api.get(url).json()["tasks_solved"] == 1
    assert api.get(reverse("api:student-stats", args=[999999, course.id])).status_code == 404


class TestAccessCheckApi:
    def url(self, course_id, user_id):
        return reverse("api:access-check", args=[course_id, user_id])

    def test_student_asks_about_themselves(self, api, course, student, outsider):
        api.force_authenticate(student)
        assert api.get(self.url(course.id, student.id)).json() == {"allowed": True, "until": None}
        assert api.get(self.url(course.id, outsider.id)).status_code == 403

    def test_service_token_asks_about_anyone(self, api, course, student, outsider):
        service = StaffFactory()
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=service).key}")
        assert api.get(self.url(course.id, student.id)).json()["allowed"] is True
        assert api.get(self.url(course.id, outsider.id)).json()["allowed"] is False
        assert api.get(self.url(course.id, 999999)).status_code == 404
        assert api.get(self.url(999999, student.id)).status_code == 404

    def test_expired_access_reports_false(self, api, course, expired_student):
        api.force_authenticate(expired_student)
        body = api.get(self.url(course.id, expired_student.id)).json()
        assert body == {"allowed": False, "until": None}

    def test_needs_authentication(self, api, course, student):
        assert api.get(self.url(course.id, student.id)).status_code == 401

    def test_cached_after_the_first_call(self, api, course, student, django_assert_num_queries):
        token = Token.objects.create(user=student)
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        api.get(self.url(course.id, student.id))
        with django_assert_num_queries(0):  # the token's user and the answer are cached
            assert api.get(self.url(course.id, student.id)).json()["allowed"] is True

    def test_token_and_session_get_the_same_answer(self, api):
        """A token GET takes the lean path, a session the API view: same body, same type."""
        grant = AccessGrantFactory(available_until=timezone.now() + timedelta(days=5))
        url = self.url(grant.course_id, grant.user_id)
        api.force_authenticate(grant.user)
        by_session = api.get(url)
        api.force_authenticate(None)
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=grant.user).key}")
        by_token, by_token_cached = api.get(url), api.get(url)
        assert by_session.json() == by_token.json() == by_token_cached.json()
        assert by_token.json() == {"allowed": True, "until": grant.available_until.isoformat()}
        assert by_session["Content-Type"] == by_token["Content-Type"] == "application/json"

    def test_a_service_asking_about_anyone_is_served_from_the_cache(
        self, api, course, student, django_assert_num_queries
    ):
        moderator = ModeratorFactory()
        service = Token.objects.create(user=StaffFactory())
        api.credentials(HTTP_AUTHORIZATION=f"Token {service.key}")
        for target in (student, moderator):
            api.get(self.url(course.id, target.id))
            with django_assert_num_queries(0):  # the target's role is cached with the answer
                assert api.get(self.url(course.id, target.id)).json()["allowed"] is True

    def test_a_role_change_or_a_deletion_is_seen_at_once(
        self, api, course, django_capture_on_commit_callbacks
    ):
        moderator = ModeratorFactory()
        service = Token.objects.create(user=StaffFactory())
        api.credentials(HTTP_AUTHORIZATION=f"Token {service.key}")
        url = self.url(course.id, moderator.id)
        assert api.get(url).json()["allowed"] is True
        moderator.role = "student"
        with django_capture_on_commit_callbacks(execute=True):
            moderator.save(update_fields=["role"])
        assert api.get(url).json()["allowed"] is False
        with django_capture_on_commit_callbacks(execute=True):
            moderator.delete()
        assert api.get(url).status_code == 404

    def test_moderator_target_is_always_allowed(self, api, course):
        moderator = ModeratorFactory()
        api.force_authenticate(UserFactory(role="staff", is_staff=True))
        assert api.get(self.url(course.id, moderator.id)).json()["allowed"] is True
