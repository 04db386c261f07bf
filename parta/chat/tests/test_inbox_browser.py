"""A moderator works the inbox in a real browser: the header's count, the list (a filter
tab swapped in place by htmx), a task thread with its statement, the student's attempts
and statistics beside it; a saved reply inserted with a click, edited and sent; a private
note added in place; the thread taken. Screenshots at 1280 and 390 px with
``PARTA_SHOTS_DIR`` set (no page may scroll sideways)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import STAFF_PASSWORD, ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory, TaskFactory, TopicFactory
from parta.chat import inbox
from parta.chat.models import ChatMessage, Thread, ThreadNote, ThreadState
from parta.chat.services import support_thread_open, task_thread_open
from parta.chat.tests.conftest import answer_wrongly
from parta.common.testing.browser import screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(STAFF_PASSWORD)
    page.locator("form button[type=submit]").first.click()


def _htmx_idle(page: Page) -> None:
    """Until htmx has swapped and settled what it fetched (new elements listen after)."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def test_a_moderator_answers_a_task_question_with_a_saved_reply(page: Page, browser_live_server):
    course = CourseFactory(title="Алгебра", slug="algebra")
    task = TaskFactory(
        topic=TopicFactory(course=course, title="Дроби"),
        title="Сократите дробь 6/8",
        statement="Сократите дробь **6/8** до несократимой.",
        answer_text="3/4",
        solution="Разделите числитель и знаменатель на 2.",
    )
    student = UserFactory(email="ann@example.com", full_name="Анна Иванова")
    AccessGrantFactory(user=student, course=course)
    answer_wrongly(student, task)
    other = UserFactory(email="bob@example.com", full_name="Борис Петров")
    moderator = ModeratorFactory(email="teacher@example.com", full_name="Мария Ивановна")
    ModeratorFactory(email="second@example.com", full_name="Пётр Петрович")
    thread = task_thread_open(student=student, task=task, text="Почему не 6/8?")
    # Asked earlier, so it waits longest and comes first.
    Thread.objects.filter(pk=thread.pk).update(waiting_since=timezone.now() - timedelta(hours=3))
    support_thread_open(student=other, text="Как оплатить курс?")
    inbox.saved_reply_create(
        author=moderator, title="Подсказка", text="Посмотрите на общий делитель."
    )
    inbox.saved_reply_create(author=moderator, title="Приветствие", text="Здравствуйте!")
    base = browser_live_server.url

    _sign_in(page, base, "teacher@example.com")
    page.goto(base + "/")
    expect(page.locator("[data-testid=inbox-count]")).to_have_text("2")
    page.get_by_role("link", name="Входящие").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    rows = page.locator(".inbox-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Сократите дробь 6/8")
    expect(rows.first).to_have_class(re.compile("unread"))
    screenshots(page, "inbox-list")

    # A filter tab swaps the list in place.
    page.evaluate("() => { window.notReloaded = true; }")
    page.locator(".inbox-tabs a").nth(4).click()  # closed
    expect(page).to_have_url(re.compile(r"\?show=closed$"))
    expect(page.locator(".inbox-row")).to_have_count(0)
    _htmx_idle(page)
    page.locator("#inbox-kind").select_option("task")
    expect(page).to_have_url(re.compile(r"show=closed&kind=task"))
    _htmx_idle(page)
    page.locator(".inbox-tabs a").nth(1).click()  # awaiting a reply
    expect(page.locator(".inbox-row")).to_have_count(1)
    assert page.evaluate("() => window.notReloaded") is True

    page.locator(".inbox-row a.inbox-subject").first.click()
    expect(page.locator("h1")).to_have_text("Сократите дробь 6/8")
    expect(page.locator(".inbox-task .prose strong")).to_have_text("6/8")
    expect(page.locator(".attempt-list li")).to_have_count(3)
    expect(page.locator(".inbox-stats")).to_be_visible()
    page.locator(".inbox-solution summary").click()
    expect(page.locator(".inbox-key")).to_have_text("3/4")

    # A saved reply goes into the box with a click; the moderator adds to it and sends.
    box = page.locator("#chat-text")
    box.fill("Анна,")
    page.locator(".saved-replies a.chip", has_text="Подсказка").click()
    expect(box).to_have_value("Анна,\nПосмотрите на общий делитель.")
    box.press("End")
    box.type(" Удачи!")
    screenshots(page, "inbox-thread")
    page.locator("#chat-form button[type=submit]").click()
    sent = "Анна,\nПосмотрите на общий делитель. Удачи!"
    expect(page.locator("#chat-messages .chat-message.from-school")).to_contain_text(
        "Посмотрите на общий делитель. Удачи!"
    )
    reply = ChatMessage.objects.get(thread=thread, author=moderator)
    assert reply.text == sent
    thread.refresh_from_db()
    assert thread.state == ThreadState.AWAITING_STUDENT

    # A private note, added in place.
    page.evaluate("() => { window.notReloaded = true; }")
    page.locator("#note-text").fill("Мама просила звонить после 18:00")
    page.locator("#notes button[type=submit]").click()
    expect(page.locator("#notes .note")).to_contain_text("Мама просила звонить после 18:00")
    assert page.evaluate("() => window.notReloaded") is True
    assert ThreadNote.objects.get().author == moderator

    page.locator("#thread-actions form[action$='/take/'] button").click()
    expect(page.locator(".inbox-assigned")).to_have_text("Ведёте вы.")
    expect(page.locator(".messages")).to_contain_text("Теперь переписку ведёте вы.")
    thread.refresh_from_db()
    assert thread.assignee == moderator
    screenshots(page, "inbox-thread-answered")

    page.goto(base + "/inbox/replies/")
    expect(page.locator(".saved-reply")).to_have_count(2)
    screenshots(page, "inbox-replies")

    # The same in English.
    page.goto(base + "/inbox/")
    page.locator(".language-switch button[value=en]").click()
    expect(page.locator("h1")).to_have_text("Inbox")
    expect(page.locator(".inbox-row", has_text="Сократите")).to_contain_text("Answered")
    screenshots(page, "inbox-list-en")
    page.locator(".inbox-row a.inbox-subject", has_text="Сократите").click()
    expect(page.locator(".inbox-assigned")).to_have_text("Assigned to you.")
    screenshots(page, "inbox-thread-en")
