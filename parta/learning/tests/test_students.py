"""The moderators' list of students: who may open it, search, figures, query count."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.queries import count_queries
from parta.learning.models import DailyActivity
from parta.learning.selectors import student_directory

pytestmark = pytest.mark.django_db

URL = reverse("learning:students")


def test_only_moderators_and_staff_open_the_list(client):
    assert client.get(URL).status_code == 302  # anonymous: sign in first
    client.force_login(UserFactory())
    assert client.get(URL).status_code == 403
    for factory in (ModeratorFactory, StaffFactory):
        client.force_login(factory())
        assert client.get(URL).status_code == 200


def test_search_by_name_email_or_phone():
    anna = UserFactory(full_name="Анна Петрова", email="anna@example.com", phone="+79991234567")
    UserFactory(full_name="Борис Иванов", email="boris@example.com")
    ModeratorFactory(full_name="Анна Модератор")  # not a student
    UserFactory(full_name="Анна Ушедшая", is_active=False)  # switched off

    def found(search=""):
        return list(student_directory(search=search).object_list)

    assert found("анна") == [anna]
    assert found("ANNA@EXAMPLE") == [anna]
    assert found("999 123") == [anna]
    assert found("  петрова  ") == [anna]
    assert student_directory().paginator.count == 2


def test_figures_and_order():
    course, other = CourseFactory(), CourseFactory()
    busy, idle, new = UserFactory(), UserFactory(), UserFactory()
    AccessGrantFactory(user=busy, course=course)
    AccessGrantFactory(user=busy, course=other)
    AccessGrantFactory(user=busy, course=other)  # a renewal: still one course
    AccessGrantFactory(
        user=idle,
        course=course,
        starts_at=timezone.now() - timedelta(days=31),
        available_until=timezone.now() - timedelta(days=1),
    )
    DailyActivity.objects.create(user=busy, course=course, day=date(2026, 11, 20), tasks_solved=3)
    DailyActivity.objects.create(user=busy, course=other, day=date(2026, 11, 21), tasks_solved=2)
    DailyActivity.objects.create(user=idle, course=course, day=date(2026, 10, 1), tasks_solved=1)
    rows = list(student_directory().object_list)
    assert rows == [busy, idle, new]  # most recently active first, never active last
    assert [(r.active_courses, r.tasks_solved, r.last_active) for r in rows] == [
        (2, 5, date(2026, 11, 21)),
        (0, 1, date(2026, 10, 1)),
        (0, 0, None),
    ]


def test_page_links_to_statistics_and_queries_do_not_grow(client):
    client.force_login(ModeratorFactory())
    student = UserFactory(full_name="Вера Смирнова")
    html = client.get(URL).content.decode()
    assert reverse("learning:student-stats", args=[student.pk]) in html
    assert "Вера Смирнова" in html

    def render() -> int:
        with count_queries() as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    few = render()
    course = CourseFactory()
    for _ in range(40):
        AccessGrantFactory(course=course)
    assert render() == few


def test_htmx_search_answers_the_table_only(client):
    client.force_login(ModeratorFactory())
    UserFactory(full_name="Глеб Орлов")
    partial = client.get(URL, {"q": "глеб"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Глеб Орлов" in partial
    assert "<html" not in partial
    nothing = client.get(URL, {"q": "нет-такого"}).content.decode()
    assert "нет-такого" in nothing  # "no student matches …"


def test_pages_hold_every_student_once():
    students = {UserFactory() for _ in range(7)}
    pages = [student_directory(page=n, per_page=3) for n in (1, 2, 3)]
    assert pages[0].paginator.count == 7
    assert pages[0].paginator.num_pages == 3
    seen = [student for page in pages for student in page.object_list]
    assert len(seen) == 7
    assert set(seen) == students


def test_bad_page_numbers_fall_back(client):
    client.force_login(ModeratorFactory())
    UserFactory()
    for page in ("abc", "-1", "999"):
        assert client.get(URL, {"page": page}).status_code == 200


def test_a_student_without_courses_is_described_to_the_moderator(client):
    client.force_login(ModeratorFactory())
    student = UserFactory()
    html = client.get(reverse("learning:student-stats", args=[student.pk])).content.decode()
    assert "У ученика пока нет курсов и ответов." in html
    assert reverse("learning:students") in html  # the way back to the list


@pytest.mark.parametrize(
    "search", ["89123456789", "8 912 345-67-89", "+7 (912) 345-67-89", "8912345", "912 345"]
)
def test_phone_search_reads_national_formats(search):
    # Stored like sign-up stores it; typed the way people write Russian numbers.
    olga = UserFactory(full_name="Ольга Смирнова", phone="+79123456789")
    UserFactory(full_name="Пётр Сидоров", phone="+79991112233")
    assert list(student_directory(search=search).object_list) == [olga]
