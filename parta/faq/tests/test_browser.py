"""A visitor finds the Support link in the header, types into the FAQ search and sees
matching questions suggested beside the box (htmx, debounced, no reload), opens one,
searches, and finds "My question is not here" carrying the typed text; a moderator keeps
the FAQ in the workspace (a refused empty question, a new one, moved up)."""

import re

import pytest
from playwright.sync_api import Page, expect

from parta.accounts.tests.factories import STAFF_PASSWORD, ModeratorFactory
from parta.common.testing.browser import screenshots
from parta.faq.demo import seed_faq
from parta.faq.models import Entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typing_a_question_suggests_answers_beside_the_box(page: Page, browser_live_server):
    seed_faq()
    base = browser_live_server.url
    suggest_requests: list[str] = []
    page.on(
        "request",
        lambda request: (
            suggest_requests.append(request.url) if "/support/suggest/" in request.url else None
        ),
    )

    page.goto(base + "/")
    page.set_viewport_size({"width": 390, "height": 800})
    support = page.locator("header").get_by_role("link", name="Поддержка")
    expect(support).to_be_visible()  # at phone width too
    page.set_viewport_size({"width": 1280, "height": 900})
    support.click()
    expect(page).to_have_url(re.compile(r"/support/$"))
    expect(page.locator("main h1")).to_have_text("Поддержка")
    expect(page.locator("#faq-suggestions")).to_contain_text("Начните писать вопрос")
    screenshots(page, "support")

    page.evaluate("() => { window.notReloaded = true; }")
    box = page.locator("#faq-q")
    box.press_sequentially("как вернуть деньги", delay=40)
    suggestions = page.locator("#faq-suggestions")
    expect(suggestions.locator("summary").first).to_have_text("Можно ли вернуть деньги за курс?")
    expect(suggestions.locator("mark").first).to_be_visible()
    assert page.evaluate("() => window.notReloaded") is True
    # Debounced: one request for the whole phrase typed at speed, not one per key.
    assert len(suggest_requests) <= 2, suggest_requests
    ask = page.locator("#faq-ask")
    expect(ask).to_have_text("Моего вопроса здесь нет")
    expect(ask).to_have_attribute(
        "href", re.compile(r"/support/new/\?q=%D0%BA%D0%B0%D0%BA\+%D0%B2%D0%B5%D1%80")
    )
    suggestions.locator("summary").first.click()
    expect(suggestions.locator(".faq-answer").first).to_contain_text("неиспользованных дней")
    screenshots(page, "suggestions")

    box.fill("")
    box.press_sequentially("документы", delay=30)
    expect(suggestions).to_contain_text("Какие документы нужны для поступления в вуз?")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/support/\?q="))
    expect(page.locator(".faq-main h2")).to_contain_text("по запросу «документы»")
    marked = page.locator(".faq-main mark").first
    expect(marked).to_have_text(re.compile("документ", re.IGNORECASE))
    screenshots(page, "search")

    box.fill("квантовая хромодинамика")
    box.press("Enter")
    expect(page.locator(".faq-main")).to_contain_text("Ничего не нашлось")
    expect(page.get_by_role("link", name="Спросить модератора")).to_have_attribute(
        "href", re.compile(r"/support/new/\?q=")
    )


def test_a_moderator_keeps_the_faq_in_the_workspace(page: Page, browser_live_server):
    seed_faq()
    ModeratorFactory(email="teacher@example.com")
    base = browser_live_server.url
    page.goto(base + "/accounts/login/")
    page.locator("input[name=login]").fill("teacher@example.com")
    page.locator("input[name=password]").fill(STAFF_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.goto(base + "/workspace/")
    # The header with the most links (a moderator's) still shows Support at phone width.
    page.set_viewport_size({"width": 390, "height": 800})
    expect(page.locator("header").get_by_role("link", name="Поддержка")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("main").get_by_role("link", name="Частые вопросы").click()
    expect(page.locator("main h1")).to_have_text("Частые вопросы")
    screenshots(page, "workspace")

    section = page.locator(".faq-ws-category", has_text="Оплата").first
    section.get_by_role("link", name="Добавить вопрос").click()
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("Напишите вопрос.")
    screenshots(page, "workspace-form-errors")
    page.get_by_label("Вопрос").fill("Есть ли скидка для братьев и сестёр?")
    page.get_by_label("Ответ").fill("Да, **10 %** на второй курс.")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator(".messages")).to_contain_text("Вопрос добавлен.")
    row = page.locator("li", has_text="Есть ли скидка для братьев и сестёр?")
    row.get_by_role("button", name="Выше").click()
    payments = page.locator(".faq-ws-category", has_text="Оплата")
    # Fifth of five, moved up to fourth.
    expect(payments.locator("li").nth(3)).to_contain_text("Есть ли скидка")
    entry = Entry.objects.get(question="Есть ли скидка для братьев и сестёр?")
    assert entry.category.title == "Оплата"
    assert entry.position == 4
    assert entry.is_published


def test_a_signed_in_student_sees_support_in_the_header_at_phone_width(
    browser, browser_live_server
):
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from parta.accounts.tests.factories import UserFactory

    student = UserFactory(full_name="Анастасия Константиновна Преображенская")
    base = browser_live_server.url
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(student.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = student.get_session_auth_hash()
    session.save()
    context = browser.new_context(viewport={"width": 390, "height": 800})
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base}]
    )
    page = context.new_page()
    page.goto(base + "/courses/")
    link = page.locator("header").get_by_role("link", name="Поддержка")
    expect(link).to_be_visible()
    box = link.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    screenshots(page, "header-student")
    link.click()
    expect(page.locator("main h1")).to_have_text("Поддержка")
    context.close()
