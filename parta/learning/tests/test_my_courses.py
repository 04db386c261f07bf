"""A student's own courses: the paused course page, "My courses" on the home page and
the profile, the catalogue's badges and plans, and their query counts."""

import itertools
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from parta.access.services import access_freeze_start
from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.billing.tests.factories import PlanFactory, PlanItemFactory
from parta.catalog.tests.factories import CourseFactory, LessonFactory, TaskFactory, TopicFactory
from parta.learning.services import task_answer_submit

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def learner(client):
    user = UserFactory(email="me@example.com")
    client.force_login(user)
    return user


def _paused(user, course, days: int = 3):
    grant = AccessGrantFactory(
        user=user,
        course=course,
        source="plan",
        available_until=timezone.now() + timedelta(days=20),
        freeze_limit_days=7,
    )
    return access_freeze_start(grant=grant, days=days, by=user)


# --- 18 ---------------------------------------------------------------------------------


def test_paused_course_says_until_when_and_offers_resume_not_buy(client, learner):
    course = CourseFactory(title="Алгебра", slug="algebra")
    PlanItemFactory(plan=PlanFactory(courses=[course]))
    from parta.billing.tests.factories import CourseItemFactory

    CourseItemFactory(course=course)
    freeze = _paused(learner, course)
    response = client.get(reverse("learning:course", args=["algebra"]))
    text = _text(response)
    ends = timezone.localtime(freeze.ends_at)
    months = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
              "сентября", "октября", "ноября", "декабря"]  # fmt: skip
    assert f"Курс на паузе до {ends.day} {months[ends.month - 1]}" in text
    html = response.content.decode()
    assert reverse("billing:freeze-end", args=[freeze.pk]) in html
    assert "Купить" not in text
    assert "откроются после того" not in text.lower()

    response = client.post(
        reverse("billing:freeze-end", args=[freeze.pk]), {"next": "/courses/algebra/"}
    )
    assert response["Location"] == "/courses/algebra/"
    assert "Курс на паузе" not in _text(client.get("/courses/algebra/"))


def test_resume_never_sends_the_student_to_another_site(client, learner):
    freeze = _paused(learner, CourseFactory())
    response = client.post(
        reverse("billing:freeze-end", args=[freeze.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("billing:purchases")


# --- 20 ---------------------------------------------------------------------------------


def _course_with_work(title: str, slug: str):
    course = CourseFactory(title=title, slug=slug)
    first = TopicFactory(course=course, title=f"{title}: начало", position=0)
    second = TopicFactory(course=course, title=f"{title}: дальше", position=1)
    LessonFactory(topic=first, title=f"{title}: урок 1")
    LessonFactory(topic=second, title=f"{title}: урок 2")
    done = TaskFactory(topic=first, answer_text="42")
    TaskFactory(topic=second, answer_text="42")
    return course, done


def test_home_and_profile_list_my_courses_with_progress_and_the_next_lesson(client, learner):
    course, done = _course_with_work("Алгебра", "algebra")
    AccessGrantFactory(user=learner, course=course)
    task_answer_submit(user=learner, task=done, data={"answer": "42"}, client_key=None)
    CourseFactory(title="Чужой курс")
    for response in (
        client.get(reverse("home")),
        client.get(reverse("learning:my-courses"), HTTP_HX_REQUEST="true"),
    ):
        html = response.content.decode()
        mine = _text(type(response)(html.split('id="my-courses"', 1)[1].split("</section>")[0]))
        assert "Алгебра" in mine
        assert "Решено 1 из 2 задач" in mine
        assert "Дальше: Алгебра: урок 2" in mine  # the first topic is done
    assert "Чужой курс" not in _text(
        client.get(reverse("learning:my-courses"), HTTP_HX_REQUEST="true")
    )


def test_a_paused_plan_does_not_pause_a_course_owned_for_good(client, learner):
    course, _done = _course_with_work("Алгебра", "algebra")
    AccessGrantFactory(user=learner, course=course)  # for good
    _paused(learner, course)
    text = _text(client.get(reverse("learning:my-courses"), HTTP_HX_REQUEST="true"))
    assert "на паузе" not in text


def test_catalogue_badges_owned_courses_and_lists_plans(client, learner):
    mine = CourseFactory(title="Алгебра")
    CourseFactory(title="Геометрия")
    AccessGrantFactory(user=learner, course=mine)
    PlanItemFactory(plan=PlanFactory(title="Весь год", courses=[mine]), prices={"RUB": 10000})
    html = client.get(reverse("learning:catalogue")).content.decode()
    cards = html.split('class="card course-card')
    owned = [card for card in cards if 'data-testid="owned"' in card]
    assert len(owned) == 1
    assert "Алгебра" in owned[0]
    plans = [card for card in cards if 'data-testid="plan"' in card]
    assert len(plans) == 1
    assert "Весь год" in plans[0]
    assert "3\u00a0000\u00a0₽" in plans[0]


def _queries(client, url, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **headers).status_code == 200
    return len(queries)


_SLUGS = itertools.count()


def _own_more(user, n: int) -> None:
    for _ in range(n):
        n = next(_SLUGS)
        course, _ = _course_with_work(f"Курс {n}", f"mine-{n}")
        AccessGrantFactory(user=user, course=course)
        _paused(user, CourseFactory())
        PlanItemFactory(plan=PlanFactory(courses=[course]))


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("home", {}),
        ("learning:catalogue", {}),
        ("learning:my-courses", {"HTTP_HX_REQUEST": "true"}),
        ("accounts:profile", {}),
    ],
)
def test_query_counts_do_not_grow_with_the_courses(client, learner, url, headers):
    _own_more(learner, 1)
    few = _queries(client, reverse(url), **headers)
    _own_more(learner, 4)
    assert _queries(client, reverse(url), **headers) == few
