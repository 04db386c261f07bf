"""The bell in a real browser: the counter, the dropdown htmx fills, marking read in
place, and the preferences toggles on the profile; screenshots at desktop and phone width."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.notifications.demo import seed_bell
from parta.notifications.models import Message, Preference

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def student(page: Page, browser_live_server, client):
    user = UserFactory(email="bell@example.com", full_name="Анна Белл")
    seed_bell(student=user, course=CourseFactory(title="Алгебра: ЕГЭ", slug="algebra"))
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies(
        [{"name": "sessionid", "value": cookie.value, "url": browser_live_server.url}]
    )
    return user


def _fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _shot(page: Page, name: str) -> None:
    """The page at the test's own width (``PARTA_SHOTS_DIR``, as screenshots() does)."""
    folder = os.environ.get("PARTA_SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}", full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_bell_dropdown_list_and_marking_read(page: Page, browser_live_server, student, width):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_viewport_size({"width": width, "height": 860})
    page.goto(f"{browser_live_server.url}/courses/")
    count = page.locator("#bell-count")
    expect(count).to_contain_text("2 непрочитанных уведомления")
    page.locator(".bell summary").click()
    expect(page.locator(".bell-item")).to_have_count(3)
    expect(page.locator(".bell-item.unread")).to_have_count(2)
    assert _fits(page)
    _shot(page, f"bell-open-{width}.png")

    page.goto(f"{browser_live_server.url}/notifications/")
    expect(page.locator("li.notice")).to_have_count(3)
    assert _fits(page)
    _shot(page, f"list-{width}.png")
    first_unread = page.locator("li.notice.unread").first
    first_unread.get_by_role("button", name="Прочитано").click()
    expect(page.locator("li.notice.unread")).to_have_count(1)
    expect(count).to_contain_text("1 непрочитанное уведомление")
    page.get_by_role("button", name="Отметить все прочитанными").click()
    expect(page.locator("li.notice.unread")).to_have_count(0)
    expect(count).to_be_hidden()
    assert not Message.objects.filter(user=student, read_at__isnull=True).exists()
    assert errors == []  # nothing refused by the Content Security Policy, no script errors


@pytest.mark.parametrize("width", [1280, 390])
def test_preferences_on_the_profile_save_in_place(page: Page, browser_live_server, student, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{browser_live_server.url}/profile/")
    form = page.locator("form.preferences-form")
    expect(form.locator('input[name="receipt:email"]')).to_be_disabled()
    expect(form.locator('input[name="receipt:email"]')).to_be_checked()
    form.locator('input[name="refund_done:email"]').uncheck()
    expect(page.locator(".pref-saved")).to_be_visible()
    assert (
        Preference.objects.get(user=student, kind="refund_done", channel="email").enabled is False
    )
    expect(page.locator('input[name="refund_done:email"]')).not_to_be_checked()
    assert _fits(page)
    form = page.locator("form.preferences-form")
    form.scroll_into_view_if_needed()
    _shot(page, f"preferences-{width}.png")


def test_bell_without_messages_says_so(page: Page, browser_live_server, student):
    Message.objects.filter(user=student).update(read_at=timezone.now() - timedelta(days=1))
    page.goto(f"{browser_live_server.url}/courses/")
    expect(page.locator("#bell-count")).to_be_hidden()
