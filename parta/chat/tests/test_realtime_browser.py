"""Live chat in real browsers: a student and a moderator on one thread's page, served by
uvicorn with config.asgi (in a thread of the test process, on the test database, with the
in-memory channel layer). Each one's message appears on the other's page at once, without
a reload, once; when the server goes away the page falls back to polling, and when it is
back the socket returns and shows what was written meanwhile."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.urls import reverse
from playwright.sync_api import Page, expect

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.chat import services
from parta.common.testing.browser import screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def signed_in_page(browser, base: str, user) -> Page:
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


def open_thread(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#chat-messages")).to_have_attribute("data-live", "socket")
    # Marks this page load: a reload would lose it.
    page.evaluate("window.partaNoReload = true")


def not_reloaded(page: Page) -> bool:
    return page.evaluate("window.partaNoReload === true")


def message(page: Page, text: str):
    return page.locator("#chat-messages .chat-message", has_text=text)


def send(page: Page, text: str) -> None:
    page.locator("#chat-form textarea[name=text]").fill(text)
    page.locator("#chat-form button[type=submit]").click()


def test_messages_appear_on_both_pages_at_once_and_survive_a_server_restart(browser, asgi_server):
    student = UserFactory(full_name="Анна Иванова")
    moderator = ModeratorFactory(full_name="Мария Петровна")
    thread = services.support_thread_open(
        student=student, text="Где найти документы для поступления?"
    )
    url = asgi_server.base + reverse("chat:thread", args=[thread.pk])

    anna = signed_in_page(browser, asgi_server.base, student)
    open_thread(anna, url)
    maria = signed_in_page(browser, asgi_server.base, moderator)
    # The school may be sent on to its own page of the thread; it has the same list.
    open_thread(maria, url)

    send(maria, "Список документов — на странице «Поступление».")
    expect(message(anna, "Список документов")).to_have_count(1)
    # The sender's page shows it once: its own answer and the socket's push are one message.
    expect(message(maria, "Список документов")).to_have_count(1)
    expect(maria.locator("#chat-form textarea[name=text]")).to_have_value("")
    # Like the ordinary POST's answer, the address points at the new message.
    expect(maria).to_have_url(re.compile(r"#message-\d+$"))

    send(anna, "Спасибо! А <b>сроки</b>?")
    expect(message(maria, "А <b>сроки</b>?")).to_have_count(1)
    expect(message(anna, "А <b>сроки</b>?")).to_have_count(1)
    assert maria.locator("#chat-messages b").count() == 0
    assert not_reloaded(anna)
    assert not_reloaded(maria)
    screenshots(anna, "chat-live-student")

    # The server goes away: the page polls (and its polls fail) until it is back.
    asgi_server.stop()
    expect(anna.locator("#chat-messages")).to_have_attribute("data-live", "polling")
    services.message_post(thread=thread, author=moderator, text="Сроки: до 20 июля.")
    asgi_server.start()
    # Back on the socket, the page catches up with what was written while it was away.
    expect(anna.locator("#chat-messages")).to_have_attribute("data-live", "socket", timeout=15_000)
    expect(message(anna, "Сроки: до 20 июля.")).to_have_count(1)
    send(maria, "Удачи!")
    expect(message(anna, "Удачи!")).to_have_count(1)
    ids = anna.eval_on_selector_all(
        "#chat-messages [data-id]", "items => items.map(i => Number(i.dataset.id))"
    )
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids)) == 5
    assert anna.locator("#chat-messages").get_attribute("data-after") == str(ids[-1])
    assert not_reloaded(anna)

    # A refused message: the form comes back with its error in place, nothing is added.
    send(anna, "   ")
    expect(anna.locator("#chat-form #chat-error")).to_be_visible()
    assert anna.locator("#chat-messages [data-id]").count() == 5
    send(anna, "Поняла, спасибо.")
    expect(message(maria, "Поняла, спасибо.")).to_have_count(1)
    expect(anna.locator("#chat-form #chat-error")).to_have_count(0)
    assert not_reloaded(anna)
