"""The issue's whole journey in two browsers on the ASGI server: a student answers a task
wrong three times, asks a moderator, the moderator's Telegram gets the alert (the fake Bot
API records it), the moderator answers from the inbox in a second browser context, and the
student's page shows the answer without a reload."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import TaskFactory, TopicFactory
from parta.chat.models import Thread, ThreadState
from parta.chat.tests.test_realtime_browser import (
    message,
    not_reloaded,
    open_thread,
    send,
    signed_in_page,
)
from parta.common.testing.browser import screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_three_wrong_answers_a_question_an_alert_and_a_live_answer(
    browser, asgi_server, telegram_peer
):
    task = TaskFactory(topic=TopicFactory(), title="Шесть на семь", answer_text="42")
    student = UserFactory(full_name="Ученица Учёная", language="ru")
    AccessGrantFactory(user=student, course=task.topic.course)
    moderator = ModeratorFactory(full_name="Мария Петровна", telegram_chat_id=770088)
    base = asgi_server.base

    anna = signed_in_page(browser, base, student)
    anna.goto(base + reverse("learning:task", args=[task.topic.course.slug, task.pk]))
    expect(anna.get_by_role("link", name="Спросить модератора")).to_have_count(0)
    for wrong in ("41", "43", "44"):
        anna.locator("input[name=answer]").fill(wrong)
        with anna.expect_response(lambda response: response.request.method == "POST"):
            anna.get_by_role("button", name="Проверить").click()
        expect(anna.locator(".verdict.wrong")).to_be_visible()
    anna.get_by_role("link", name="Спросить модератора").click()
    anna.locator("textarea[name=text]").fill("Почему не 41?")
    anna.get_by_role("button", name="Отправить вопрос").click()
    expect(anna.locator("#chat-messages .chat-message")).to_have_count(1)
    thread = Thread.objects.get(student=student, task=task)
    assert thread.state == ThreadState.AWAITING_MODERATOR

    (alert,) = telegram_peer.wait_for_sent(1, chat_id=moderator.telegram_chat_id)
    assert "Шесть на семь" in alert.text

    # The student stays on the thread's page, live; the moderator answers from the inbox.
    open_thread(anna, base + reverse("chat:thread", args=[thread.pk]))
    maria = signed_in_page(browser, base, moderator)
    open_thread(maria, base + reverse("inbox:thread", args=[thread.pk]))
    # Beside the thread: the student's three answers, as typed.
    expect(maria.locator(".attempt-list li.wrong")).to_have_count(3)
    for wrong in ("41", "43", "44"):
        expect(maria.locator(".attempt-list")).to_contain_text(wrong)
    send(maria, "Посмотрите на таблицу умножения: 6 × 7.")

    expect(message(anna, "таблицу умножения")).to_have_count(1)
    assert not_reloaded(anna)
    thread.refresh_from_db()
    assert thread.state == ThreadState.AWAITING_STUDENT
    screenshots(anna, "chat-journey-student")
    screenshots(maria, "chat-journey-moderator")
