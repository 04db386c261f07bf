"""A moderator publishes a post to one course in a real browser and watches its progress
bar fill (htmx polling, no reload); a student of that course reads it at /news/, a
student of another course does not see it, neither there nor in the bell."""

import re

import pytest
from playwright.sync_api import Page, expect

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import STAFF_PASSWORD, ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.browser import screenshots
from parta.news.models import Post, PostStatus
from parta.notifications.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def held_delivery(monkeypatch):
    """The broadcast runs on publishing (eagerly, in the request), but the outbox's
    delivery waits until the test releases it (running the real worker), so the page shows
    a running broadcast first."""
    import parta.notifications.services as outbox

    monkeypatch.setattr(outbox, "_start_delivery", lambda: None)

    from parta.notifications.tasks import deliver_due

    return deliver_due


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(STAFF_PASSWORD)
    page.locator("form button[type=submit]").first.click()


def _student_page(browser, base: str, user) -> Page:
    """A browser signed in as ``user`` (students sign in by emailed codes; the journey
    under test is the news, so the session is made directly)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    context = browser.new_context()
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base}]
    )
    return context.new_page()


def test_a_post_to_one_course_reaches_its_students_only(
    page: Page, browser, browser_live_server, held_delivery
):
    algebra = CourseFactory(title="Алгебра", slug="algebra")
    geometry = CourseFactory(title="Геометрия", slug="geometry")
    ann = UserFactory(email="ann@example.com", full_name="Анна Иванова")
    bob = UserFactory(email="bob@example.com", full_name="Борис Петров")
    AccessGrantFactory(user=ann, course=algebra)
    AccessGrantFactory(user=bob, course=geometry)
    ModeratorFactory(email="teacher@example.com")
    base = browser_live_server.url

    _sign_in(page, base, "teacher@example.com")
    page.goto(base + "/workspace/")
    page.get_by_role("link", name="Новости").first.click()
    page.get_by_role("link", name="Написать новость").click()
    # An empty post is refused with reasons, nothing is stored.
    page.get_by_role("button", name="Опубликовать").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("Дайте новости заголовок.")
    screenshots(page, "workspace-form-errors")
    assert not Post.objects.exists()

    page.get_by_label("Название").fill("Контрольная в пятницу")
    page.get_by_label("Текст").fill("Повторите **квадратные уравнения**.")
    page.get_by_label("Ученики одного курса").check()
    page.locator("select[name=course]").select_option(label="Алгебра")
    page.get_by_role("button", name="Опубликовать").click()

    expect(page.locator("main h1")).to_have_text("Контрольная в пятницу")
    progress = page.locator("#broadcast-progress")
    expect(progress).to_have_attribute("data-finished", "false")
    expect(progress).to_contain_text("Осталось 2 сообщения.")  # Ann: site and email
    screenshots(page, "workspace-broadcast-running")
    page.evaluate("() => { window.notReloaded = true; }")
    held_delivery()
    expect(progress).to_have_attribute("data-finished", "true", timeout=10_000)
    expect(progress).to_contain_text("Готово.")
    assert page.evaluate("() => window.notReloaded") is True  # htmx refreshed the bar
    assert page.locator("progress").get_attribute("value") == "2"
    expect(page.locator("#post-status")).to_have_text("отправлено")
    expect(page.get_by_role("button", name="Остановить рассылку")).to_have_count(0)
    post = Post.objects.get()
    assert post.status == PostStatus.SENT
    assert set(Message.objects.values_list("user__email", flat=True)) == {"ann@example.com"}
    screenshots(page, "workspace-broadcast-done")

    ann_page = _student_page(browser, base, ann)
    ann_page.goto(base + "/news/")
    # The bell has it too, with a link to the post.
    expect(ann_page.locator("#bell-count")).to_contain_text("1")
    ann_page.locator(".bell summary").click()
    expect(ann_page.locator(".bell-items")).to_contain_text("Контрольная в пятницу")
    expect(ann_page.locator("main")).to_contain_text("Контрольная в пятницу")
    screenshots(ann_page, "news-list")
    ann_page.get_by_role("link", name="Контрольная в пятницу").click()
    expect(ann_page.locator(".news-body strong")).to_have_text("квадратные уравнения")
    expect(ann_page).to_have_url(re.compile(rf"/news/{post.pk}/$"))
    screenshots(ann_page, "news-detail")

    bob_page = _student_page(browser, base, bob)
    bob_page.goto(base + "/news/")
    expect(bob_page.locator("main")).to_contain_text("Новостей пока нет.")
    expect(bob_page.locator("main")).not_to_contain_text("Контрольная")
    expect(bob_page.locator("#bell-count")).to_be_hidden()
    assert bob_page.goto(base + f"/news/{post.pk}/").status == 404
    ann_page.context.close()
    bob_page.context.close()
