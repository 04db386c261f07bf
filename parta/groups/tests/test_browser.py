"""Groups in a real browser: staff open a course's groups, move a student, are refused a
full group with the reason and confirm the override; the student sees their group on
the course page. Screenshots at desktop and phone width."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from parta.access.models import GrantSource
from parta.access.services import access_grant_create
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory, TopicFactory
from parta.common.testing.browser import screenshots
from parta.groups.models import Group, Membership
from parta.groups.services import group_update

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def test_staff_move_a_student_and_the_student_sees_the_group(page: Page, browser_live_server):
    course = CourseFactory(title="Алгебра", slug="algebra", max_group_size=2)
    TopicFactory(course=course, title="Уравнения")
    names = ["Анна Демидова", "Борис Петров", "Вера Соколова", "Глеб Морозов", "Дина Волкова"]
    students = [UserFactory(full_name=name) for name in names]
    for student in students:
        access_grant_create(user=student, course=course, source=GrantSource.MANUAL)
    teacher = ModeratorFactory(full_name="Мария Учителева")
    first = Group.objects.get(course=course, number=1)
    group_update(group=first, by=teacher, name="Утренняя", teacher=teacher)
    base = browser_live_server.url

    _sign_in(page, base, StaffFactory(full_name="Владелец школы"))
    page.goto(f"{base}/workspace/courses/{course.pk}/groups/")
    table = page.get_by_test_id("groups-table")
    expect(table).to_contain_text("Утренняя")
    expect(table).to_contain_text("Мария Учителева")
    expect(page.get_by_test_id("groups-summary")).to_contain_text("3 группы")
    screenshots(page, "course-groups")

    page.get_by_role("link", name="Группа 3").click()
    expect(page.locator("main h1")).to_have_text("Группа 3")
    page.get_by_label("Ученик").select_option(label="Дина Волкова")
    page.get_by_label("В группу").select_option(label="Утренняя — 2 из 2 (заполнена)")
    page.get_by_role("button", name="Перевести").click()
    expect(page.locator("#move")).to_contain_text("Утренняя заполнена: заняты 2 из 2 мест.")
    screenshots(page, "group-move-refused")

    page.get_by_label("Перевести, даже если группа заполнена (сверх лимита)").check()
    page.get_by_role("button", name="Перевести").click()
    expect(page.locator(".messages")).to_contain_text("Дина Волкова теперь в группе «Утренняя».")
    assert Membership.objects.get(student=students[4], ended_at=None).group == first

    page.goto(f"{base}/workspace/groups/{first.pk}/")
    expect(page.get_by_test_id("group-fill")).to_contain_text("сверх лимита")
    screenshots(page, "group")

    page.goto(f"{base}/courses/{course.slug}/figures/")
    expect(page.get_by_test_id("figures-groups")).to_contain_text("5 учеников распределены")
    screenshots(page, "figures")

    _sign_in(page, base, students[0])
    page.goto(f"{base}/courses/{course.slug}/")
    expect(page.get_by_test_id("my-group")).to_contain_text("Утренняя")
    expect(page.get_by_test_id("my-group")).to_contain_text("Мария Учителева")
    expect(page.locator("main")).not_to_contain_text("Борис Петров")
    screenshots(page, "course-page")
