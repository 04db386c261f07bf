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


# --- client_key: one user, one task (issue 8, points 3 and 29) -----------------------


def test_a_client_key_reused_on_another_task_is_refused_and_leaks_nothing(api, topic, student):
    first = TaskFactory(topic=topic, answer_text="two", solution="SOLUTION-OF-TWO")
    other = TaskFactory(topic=topic, answer_text="three", solution="SOLUTION-OF-THREE")
    api.force_authenticate(student)
    key = "K"
    right = api.post(
        reverse("api:task-answer", args=[first.id]), {"answer": "two", "client_key": key}
    )
    assert right.json()["correct"] is True
    reused = api.post(
        reverse("api:task-answer", args=[other.id]), {"answer": "wrong", "client_key": key}
    )
    assert reused.status_code == 409
    body = reused.json()
    assert "client_key" in body["detail"]
    assert body["errors"]["client_key"]
    assert "SOLUTION" not in str(body)
    assert "correct" not in body
    # Nothing was recorded for the other task, and its own answers still work.
    assert not other.submissions.exists()
    fresh = api.post(
        reverse("api:task-answer", args=[other.id]), {"answer": "wrong", "client_key": "K2"}
    ).json()
    assert fresh["correct"] is False
    assert fresh["solution"] is None


def test_the_same_key_from_another_user_is_theirs(api, topic, student, course):
    task = TaskFactory(topic=topic, answer_text="yes")
    classmate = UserFactory()
    AccessGrantFactory(user=classmate, course=course)
    for user in (student, classmate):
        api.force_authenticate(user)
        body = api.post(
            reverse("api:task-answer", args=[task.id]), {"answer": "yes", "client_key": "same"}
        ).json()
        assert body["replayed"] is False


@pytest.mark.parametrize(
    "key", ["1", "attempt-42", "01HZY3Q8J6X2B5C7D9E1F3G5H7", str(uuid.uuid4()), "a b", "~" * 64]
)
def test_client_key_takes_any_short_printable_string(api, task, student, key):
    api.force_authenticate(student)
    url = reverse("api:task-answer", args=[task.id])
    first = api.post(url, {"answer": "41", "client_key": key}, format="json")
    assert first.status_code == 200, first.json()
    again = api.post(url, {"answer": "41", "client_key": key}, format="json").json()
    assert again["replayed"] is True
    assert again["attempts"] == 1


@pytest.mark.parametrize("key", ["", "x" * 65, "tab\there", "ключ", "new\nline", None])
def test_client_key_out_of_rule_is_400_saying_what_it_wants(api, task, student, key):
    api.force_authenticate(student)
    response = api.post(
        reverse("api:task-answer", args=[task.id]),
        {"answer": "42", "client_key": key},
        format="json",
    )
    assert response.status_code == 400
    message = response.json()["errors"]["client_key"][0]
    assert "client_key" in message
    assert not task.submissions.exists()


def test_schema_states_the_client_key_rule(api):
    schema = api.get("/api/schema/?format=json").json()
    field = schema["components"]["schemas"]["TaskAnswerInputRequest"]["properties"]["client_key"]
    assert field["maxLength"] == 64
    assert field["minLength"] == 1
    assert field["pattern"] == "^[ -~]{1,64}$"
    assert "one task" in field["description"]
    topic = schema["components"]["schemas"]["_TopicDetailOut"]["properties"]
    assert "tasks" in topic


# --- Tasks in the course API (issue 8, point 29) -------------------------------------


def test_course_detail_lists_tasks_without_the_key_to_those_with_access(
    api, course, topic, student, outsider
):
    text = TaskFactory(topic=topic, answer_text="secret-text", points=3)
    single = TaskFactory(topic=topic, kind="single", choices=[("yes", True), ("no", False)])
    TaskFactory(topic=TopicFactory(course=course, opens_at=timezone.now() + timedelta(days=2)))
    url = reverse("api:course", args=[course.slug])

    api.force_authenticate(student)
    body = api.get(url).json()
    open_topic, closed_topic = body["topics"]
    assert closed_topic["tasks"] == []  # not open yet: nothing to answer
    by_id = {task["id"]: task for task in open_topic["tasks"]}
    assert by_id[text.id] == {
        "id": text.id, "title": text.title, "kind": "text", "points": 3,
        "choices": [], "solved": False,
    }  # fmt: skip
    assert [c["text"] for c in by_id[single.id]["choices"]] == ["yes", "no"]
    assert set(by_id[single.id]["choices"][0]) == {"id", "text"}
    assert "secret-text" not in str(body)
    assert "is_correct" not in str(body)

    api.post(reverse("api:task-answer", args=[text.id]), {"answer": "secret-text"})
    solved = api.get(url).json()["topics"][0]["tasks"]
    assert {t["id"]: t["solved"] for t in solved} == {text.id: True, single.id: False}

    api.force_authenticate(outsider)
    assert all(t["tasks"] == [] for t in api.get(url).json()["topics"])
    api.force_authenticate(None)
    assert all(t["tasks"] == [] for t in api.get(url).json()["topics"])


def test_course_detail_query_count_is_flat(api, course, student, django_assert_max_num_queries):
    for _ in range(3):
        topic = TopicFactory(course=course)
        for _ in range(3):
            TaskFactory(topic=topic, kind="multiple")
            LessonFactory(topic=topic)
    api.force_authenticate(student)
    api.get(reverse("api:course", args=[course.slug]))  # warm the access cache
    with django_assert_max_num_queries(8):
        body = api.get(reverse("api:course", args=[course.slug])).json()
    assert sum(len(t["tasks"]) for t in body["topics"]) == 9


# --- Statistics of drafts (issue 8, point 13) ----------------------------------------


def test_my_stats_of_an_unpublished_course_is_404_for_students(api, student):
    draft = CourseFactory(is_published=False, slug="draft-stats")
    AccessGrantFactory(user=student, course=draft)
    api.force_authenticate(student)
    response = api.get(reverse("api:my-stats", args=[draft.id]))
    assert response.status_code == 404
    assert response.json()["detail"]
    api.force_authenticate(ModeratorFactory())
    assert api.get(reverse("api:my-stats", args=[draft.id])).status_code == 200
    api.force_authenticate(StaffFactory())
    assert api.get(reverse("api:my-stats", args=[draft.id])).status_code == 200
