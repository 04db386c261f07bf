"""The policies in a real browser: pages load with no Content-Security-Policy violation
(so nothing they need is inline), a form's data-confirm asks before it is sent, and
/api/docs/ draws Swagger UI from our own files."""

import pytest
from playwright.sync_api import Page, expect

from parta.catalog.tests.factories import CourseFactory, LessonFactory, TopicFactory
from parta.common.testing.browser import screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _violations(page: Page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    return found


def test_pages_load_without_policy_violations_and_data_confirm_asks(page: Page, live_server):
    course = CourseFactory(slug="algebra", title="Алгебра")
    LessonFactory(topic=TopicFactory(course=course), is_free_preview=True)
    violations = _violations(page)
    for path in ["/", "/courses/", "/courses/algebra/", "/accounts/login/code/"]:
        page.goto(live_server.url + path)
        expect(page.locator("body")).to_be_visible()
    assert violations == []

    # A form with data-confirm (as templates write it), submitted twice: "no", then "yes".
    page.goto(live_server.url + "/courses/")
    page.evaluate(
        """() => {
            const form = document.createElement("form");
            form.method = "get";
            form.action = "/healthz";
            form.dataset.confirm = "Sure?";
            form.innerHTML = '<button type="submit" id="confirmed-submit">Go</button>';
            document.querySelector("main").append(form);
        }"""
    )
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#confirmed-submit")
    page.wait_for_timeout(300)
    assert asked == ["Sure?"]
    assert page.url.endswith("/courses/")
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#confirmed-submit")
    page.wait_for_url("**/healthz?")
    assert asked == ["Sure?", "Sure?"]


def test_api_docs_draw_from_local_files(page: Page, live_server):
    violations = _violations(page)
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Parta API")
    expect(page.locator(".opblock").first).to_be_visible()
    screenshots(page, "api-docs", widths=(1280,))
    assert outside == []
    assert violations == []
