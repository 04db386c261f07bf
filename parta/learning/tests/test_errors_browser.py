"""Error replies to htmx requests show in place, in a real browser: a 4xx brings its own
message into the answer block (keeping what was typed), a 5xx or a lost connection a
generic one; the test page's timer and the chart run from static files."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import CourseFactory, TaskFactory, TestFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def student_page(page: Page, browser_live_server, client):
    course = CourseFactory(title="Арифметика", slug="arith")
    topic = TopicFactory(course=course, title="Умножение")
    task = TaskFactory(
        topic=topic, title="Шесть на семь", kind="number", answer_number=42,
        statement="Сколько будет 6 × 7?",
    )  # fmt: skip
    user = UserFactory(email="pupil@example.com")
    AccessGrantFactory(user=user, course=course)
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": browser_live_server.url,
            }
        ]
    )
    return page, browser_live_server.url, course, topic, task


def test_a_non_numeric_answer_is_explained_in_place(student_page):
    page, base, course, _topic, task = student_page
    page.goto(base + reverse("learning:task", args=[course.slug, task.pk]))
    page.evaluate("() => { window.notReloaded = true; }")
    page.get_by_label("Ваш ответ (число)").fill("сорок два")
    page.get_by_role("button", name="Проверить").click()
    expect(page.locator("#answer-block .verdict.wrong")).to_contain_text("Введите число")
    expect(page.get_by_label("Ваш ответ (число)")).to_have_value("сорок два")
    assert page.evaluate("() => window.notReloaded") is True
    assert page.locator("#answer-block").count() == 1

    page.get_by_label("Ваш ответ (число)").fill("41")
    page.get_by_role("button", name="Проверить").click()
    expect(page.locator("#answer-block .verdict.wrong")).to_contain_text("Попробуйте ещё раз")
    expect(page.get_by_label("Ваш ответ (число)")).to_have_value("41")

    page.get_by_label("Ваш ответ (число)").fill("42")
    page.get_by_role("button", name="Проверить").click()
    expect(page.locator("#answer-block .verdict.ok")).to_contain_text("Верно")
    expect(page.locator("#answer-block .accepted-answer")).to_contain_text("42")
    expect(page.locator("#answer-block form")).to_have_count(0)


def test_server_errors_and_lost_connections_get_a_generic_message(student_page):
    page, base, course, _topic, task = student_page
    url = base + reverse("learning:task", args=[course.slug, task.pk])
    page.goto(url)
    page.route(re.compile(r".*/tasks/\d+/$"), lambda route: route.fulfill(status=500, body="x"))
    page.get_by_label("Ваш ответ (число)").fill("42")
    page.get_by_role("button", name="Проверить").click()
    expect(page.locator("#answer-block .htmx-error")).to_contain_text("на сервере")
    expect(page.get_by_label("Ваш ответ (число)")).to_have_value("42")

    page.unroute(re.compile(r".*/tasks/\d+/$"))
    page.route(re.compile(r".*/tasks/\d+/$"), lambda route: route.abort())
    page.get_by_role("button", name="Проверить").click()
    expect(page.locator("#answer-block .htmx-error")).to_contain_text("Нет связи")
    expect(page.locator("#answer-block .htmx-error")).to_have_count(1)


def test_test_autosave_error_shows_beside_the_task_and_the_timer_runs(student_page):
    page, base, course, topic, _task = student_page
    test = TestFactory(topic=topic, title="Контрольная", time_limit_minutes=10)
    number = TaskFactory(test=test, kind="number", answer_number=1, title="Один")
    page.goto(base + reverse("learning:test", args=[course.slug, test.pk]))
    page.get_by_role("button", name="Начать тест").click()
    expect(page.locator("#timer")).to_have_text(re.compile(r"^(10:00|9:5\d)$"))
    box = page.locator(f"input[name=t{number.pk}-answer]")
    box.fill("один")
    box.dispatch_event("change")
    expect(page.locator(f"#saved-{number.pk} .save-state.wrong")).to_contain_text("Введите число")
    box.fill("1")
    box.dispatch_event("change")
    expect(page.locator(f"#saved-{number.pk} .save-state.ok")).to_contain_text("сохранено")
