"""The calendar link in a real browser: a student finds it on /sessions/, makes a new one
(the old address then answers 404), downloads a session's .ics, sees the session on the
course page; a moderator reaches /sessions/ from the menu. Screenshots at desktop and
phone width."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import Page, expect

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.browser import screenshots
from parta.groups.models import CalendarFeed
from parta.groups.services import membership_place
from parta.groups.sessions import session_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def test_a_student_subscribes_renews_the_link_and_downloads_a_session(
    page: Page, browser_live_server
):
    course = CourseFactory(title="Алгебра", slug="algebra", max_group_size=5)
    student = UserFactory(full_name="Анна Демидова")
    AccessGrantFactory(user=student, course=course)
    membership_place(student=student, course_id=course.pk)
    moderator = ModeratorFactory(full_name="Мария Учителева")
    session = session_create(
        actor=moderator,
        course=course,
        teacher=moderator,
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=60,
        meeting_url="https://meet.example.com/room",
        description="Повторение перед контрольной",
    )
    base = browser_live_server.url

    _sign_in(page, base, student)
    page.goto(f"{base}/sessions/")
    link = page.get_by_label("Ссылка на календарь")
    old = link.input_value()
    assert old.endswith(".ics")
    assert "calendar.google.com" in page.get_by_role(
        "link", name="Добавить в Google Календарь"
    ).get_attribute("href")
    screenshots(page, "calendar-mine")
    path = "/" + old.split("/", 3)[3]
    assert page.request.get(f"{base}{path}").status == 200
    page.get_by_role("button", name="Сделать новую ссылку").click()
    expect(page.get_by_text("Новая ссылка на календарь готова")).to_be_visible()
    new = page.get_by_label("Ссылка на календарь").input_value()
    assert new != old
    assert new.endswith(CalendarFeed.objects.get(user=student).token + ".ics")
    assert page.request.get(f"{base}{path}").status == 404

    with page.expect_download() as download:
        page.get_by_role("link", name="Скачать .ics").first.click()
    content = open(download.value.path(), "rb").read()  # noqa: SIM115
    (event,) = Calendar.from_ical(content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Живое занятие: Алгебра"

    page.goto(f"{base}/courses/algebra/")
    expect(page.get_by_test_id("course-sessions")).to_contain_text("Мария Учителева")
    screenshots(page, "calendar-course")

    _sign_in(page, base, moderator)
    page.goto(f"{base}/")
    page.locator(".account-menu summary").click()
    page.get_by_role("link", name="Живые занятия").click()
    expect(page.get_by_test_id("led")).to_contain_text("Алгебра")
    assert f"/workspace/sessions/{session.pk}/" in page.content()
    screenshots(page, "calendar-moderator")
