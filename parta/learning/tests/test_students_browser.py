"""A moderator's journey in a real browser: sign in with a password, find a student by
typing part of their name (the list updates without a page load) and open their
statistics."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import STAFF_PASSWORD, ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory, TaskFactory, TopicFactory
from parta.learning.services import task_answer_submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_moderator_finds_a_student_and_opens_their_statistics(page: Page, browser_live_server):
    course = CourseFactory(title="Алгебра", slug="algebra")
    task = TaskFactory(topic=TopicFactory(course=course), kind="number", answer_number=4)
    vera = UserFactory(full_name="Вера Смирнова", email="vera@example.com")
    UserFactory(full_name="Глеб Орлов", email="gleb@example.com")
    AccessGrantFactory(user=vera, course=course, starts_at=timezone.now() - timedelta(days=1))
    task_answer_submit(user=vera, task=task, data={"answer": "4"})
    ModeratorFactory(email="teacher@example.com")
    base = browser_live_server.url

    page.goto(base + "/accounts/login/")
    page.locator("input[name=login]").fill("teacher@example.com")
    page.locator("input[name=password]").fill(STAFF_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.get_by_role("link", name="Ученики").first.click()
    expect(page.locator("table.students")).to_contain_text("Глеб Орлов")

    page.evaluate("() => { window.notReloaded = true; }")
    page.get_by_placeholder("Имя, почта или телефон").fill("вера")
    expect(page.locator("table.students")).not_to_contain_text("Глеб Орлов")
    expect(page.locator("table.students")).to_contain_text("Вера Смирнова")
    assert page.evaluate("() => window.notReloaded") is True  # htmx swapped the table
    expect(page).to_have_url(re.compile(r"/students/\?q="))  # the search is in the address

    page.get_by_role("link", name="Вера Смирнова").click()
    expect(page.locator("main h1")).to_have_text("Статистика: Вера Смирнова")
    expect(page.locator("main")).to_contain_text("Алгебра")
    expect(page.locator("canvas")).to_be_visible()
