"""The student's pages: "Ask a moderator" on the task page, asking, the thread page (with
the attempts block and the reply form, without JavaScript), the polling fallback, my
threads and a new support question. Query counts are pinned and do not grow with data."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from parta.accounts.tests.factories import UserFactory
from parta.chat.models import ChatMessage, Thread, ThreadSeen, ThreadState
from parta.chat.services import message_post, support_thread_open, task_thread_open
from parta.chat.tests.conftest import answer_wrongly
from parta.learning.services import task_answer_submit

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


def _task_url(task) -> str:
    return reverse("learning:task", args=[task.topic.course.slug, task.pk])


def _open(student, task, text="Why is it not 41?") -> Thread:
    return task_thread_open(student=student, task=task, text=text)


# --- The task page ------------------------------------------------------------------------


def test_the_task_page_counts_down_to_asking_then_offers_it(en, student, task):
    en.force_login(student)
    html = en.get(_task_url(task)).content.decode()
    assert "After 3 more wrong answers you can ask a moderator" in html
    assert reverse("chat:task-ask", args=[task.pk]) not in html

    # Each wrong answer (htmx) updates the count in place.
    block = en.post(_task_url(task), {"answer": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert "After 2 more wrong answers" in block
    en.post(_task_url(task), {"answer": "2"}, HTTP_HX_REQUEST="true")
    block = en.post(_task_url(task), {"answer": "3"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Ask a moderator" in block
    assert f'href="{reverse("chat:task-ask", args=[task.pk])}"' in block


def test_the_task_page_in_russian_says_how_many_answers_are_left(client, student, task):
    client.force_login(student)
    answer_wrongly(student, task, times=2)
    html = client.get(_task_url(task)).content.decode()
    assert "После ещё 1 неверного ответа можно будет спросить модератора" in html


def test_after_asking_the_task_page_links_to_the_thread(en, asker, task):
    thread = _open(asker, task)
    en.force_login(asker)
    html = en.get(_task_url(task)).content.decode()
    assert "You asked the moderators about this task." in html
    assert reverse("chat:thread", args=[thread.pk]) in html


def test_moderators_see_no_ask_panel(en, moderator, task):
    en.force_login(moderator)
    html = en.get(_task_url(task)).content.decode()
    assert 'id="ask-panel"' not in html


# --- Asking -------------------------------------------------------------------------------


def test_asking_too_early_is_a_403_page_with_the_count(en, student, task):
    en.force_login(student)
    answer_wrongly(student, task, times=1)
    response = en.get(reverse("chat:task-ask", args=[task.pk]))
    assert response.status_code == 403
    assert "after 2 more wrong answers" in response.content.decode()
    posted = en.post(reverse("chat:task-ask", args=[task.pk]), {"text": "Help"})
    assert posted.status_code == 403
    assert not Thread.objects.exists()


def test_asking_without_access_is_refused(en, task):
    outsider = UserFactory()
    en.force_login(outsider)
    response = en.post(reverse("chat:task-ask", args=[task.pk]), {"text": "Help"})
    assert response.status_code == 403
    assert "do not have access" in response.content.decode()
    assert not Thread.objects.exists()


def test_asking_opens_the_thread_and_a_resent_form_stores_it_once(en, asker, task):
    en.force_login(asker)
    url = reverse("chat:task-ask", args=[task.pk])
    page = en.get(url).content.decode()
    key = re.search(r'name="client_key" value="([^"]+)"', page).group(1)
    first = en.post(url, {"text": "Where is my mistake?", "client_key": key})
    thread = Thread.objects.get()
    assert first.status_code == 302
    assert first["Location"] == reverse("chat:thread", args=[thread.pk])
    again = en.post(url, {"text": "Where is my mistake?", "client_key": key})
    assert again.status_code == 302
    assert ChatMessage.objects.count() == 1
    # Once asked, the ask page leads to the thread.
    assert en.get(url)["Location"] == reverse("chat:thread", args=[thread.pk])


def test_an_empty_or_overlong_question_keeps_the_form_with_a_message(en, asker, task):
    en.force_login(asker)
    url = reverse("chat:task-ask", args=[task.pk])
    empty = en.post(url, {"text": "   "})
    assert empty.status_code == 400
    assert "Write a message or attach a file." in empty.content.decode()
    long = en.post(url, {"text": "я" * 4001})
    html = long.content.decode()
    assert long.status_code == 400
    assert "4001 characters, the limit is 4000" in html
    assert 'aria-invalid="true"' in html
    assert not Thread.objects.exists()


# --- The thread page ----------------------------------------------------------------------


def test_the_thread_page_shows_messages_attempts_and_the_list_for_live_updates(
    en, asker, task, moderator
):
    thread = _open(asker, task, text="<script>alert(1)</script> see https://example.org")
    reply = message_post(thread=thread, author=moderator, text="Look again at step 2")
    en.force_login(asker)
    html = en.get(reverse("chat:thread", args=[thread.pk])).content.decode()
    assert (
        f'<ol id="chat-messages" class="chat-messages" data-ws="/ws/chat/threads/{thread.pk}/" '
        f'data-poll="/chat/threads/{thread.pk}/messages/" data-after="{reply.pk}"'
    ) in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer"' in html
    assert "Look again at step 2" in html
    assert "Мария Ивановна" in html
    # The attempts block: three wrong answers as typed.
    assert html.count('<span class="attempt-mark" aria-hidden="true">✗</span>') == 3
    assert "wrong 0" in html
    assert "chat/live.js" in html
    assert 'enctype="multipart/form-data"' in html
    # Opening the page marks it seen.
    assert ThreadSeen.objects.get(thread=thread, user=asker).seen_at >= reply.created_at


def test_the_thread_page_query_count_does_not_grow_with_messages(
    en, asker, task, moderator, django_assert_num_queries
):
    thread = _open(asker, task)
    en.force_login(asker)
    url = reverse("chat:thread", args=[thread.pk])
    en.get(url)
    with django_assert_num_queries(11) as few:
        en.get(url)
    for n in range(12):
        message_post(thread=thread, author=moderator if n % 2 else asker, text=f"message {n}")
    answer_wrongly(asker, task, times=5)
    with django_assert_num_queries(len(few.captured_queries)):
        html = en.get(url).content.decode()
    assert html.count('<li class="chat-message') == 13


def test_replying_without_javascript_posts_and_redirects_to_the_message(en, asker, task):
    thread = _open(asker, task)
    en.force_login(asker)
    url = reverse("chat:thread", args=[thread.pk])
    response = en.post(
        url,
        {"text": "With my drawing", "attachment": SimpleUploadedFile("work.png", PNG)},
    )
    message = thread.messages.order_by("id").last()
    assert response.status_code == 302
    assert response["Location"] == f"{url}#message-{message.pk}"
    assert message.attachment_name == "work.png"
    html = en.get(url).content.decode()
    assert '<img src="/files/' in html


def test_replying_by_htmx_answers_the_new_message(en, asker, task):
    thread = _open(asker, task)
    en.force_login(asker)
    url = reverse("chat:thread", args=[thread.pk])
    response = en.post(url, {"text": "Live", "client_key": "k1"}, HTTP_HX_REQUEST="true")
    message = thread.messages.order_by("id").last()
    assert response.status_code == 201
    assert response.content.decode().startswith(
        f'<li class="chat-message from-student mine" id="message-{message.pk}"'
    )
    again = en.post(url, {"text": "Live", "client_key": "k1"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 200
    refused = en.post(url, {"text": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert "Write a message or attach a file." in refused.content.decode()
    assert 'id="chat-form"' in refused.content.decode()


def test_a_disguised_file_is_refused_on_the_page(en, asker, task):
    thread = _open(asker, task)
    en.force_login(asker)
    response = en.post(
        reverse("chat:thread", args=[thread.pk]),
        {"text": "my homework", "attachment": SimpleUploadedFile("homework.pdf", b"MZ\x90")},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "content is not pdf" in html
    assert "my homework" in html  # what was typed is kept
    assert thread.messages.count() == 1


def test_the_rate_limit_is_a_429_page_and_nothing_is_stored(en, asker, task, settings):
    settings.PARTA_CHAT_MESSAGES_PER_MINUTE = 2
    thread = _open(asker, task)
    en.force_login(asker)
    url = reverse("chat:thread", args=[thread.pk])
    assert en.post(url, {"text": "two"}).status_code == 302
    response = en.post(url, {"text": "three"})
    assert response.status_code == 429
    assert "at most 2 a minute" in response.content.decode()
    assert thread.messages.count() == 2


def test_another_students_thread_is_a_404_everywhere(en, asker, task):
    thread = _open(asker, task)
    en.force_login(UserFactory())
    for url in (
        reverse("chat:thread", args=[thread.pk]),
        reverse("chat:thread-messages", args=[thread.pk]),
    ):
        assert en.get(url).status_code == 404
    assert en.post(reverse("chat:thread", args=[thread.pk]), {"text": "hi"}).status_code == 404
    assert thread.messages.count() == 1


def test_a_thread_whose_task_was_deleted_says_so_and_goes_on(en, asker, task, moderator):
    thread = _open(asker, task)
    task.delete()
    en.force_login(asker)
    url = reverse("chat:thread", args=[thread.pk])
    html = en.get(url).content.decode()
    assert "This task has been removed from the course" in html
    assert 'class="attempts"' not in html
    assert en.post(url, {"text": "Still there?"}).status_code == 302
    assert thread.messages.count() == 2


def test_a_closed_thread_says_writing_reopens_it(en, asker, task):
    thread = _open(asker, task)
    Thread.objects.filter(pk=thread.pk).update(state=ThreadState.CLOSED)
    en.force_login(asker)
    url = reverse("chat:thread", args=[thread.pk])
    assert "Writing here opens it again." in en.get(url).content.decode()
    en.post(url, {"text": "Reopen"})
    assert Thread.objects.get(pk=thread.pk).state == ThreadState.AWAITING_MODERATOR


def test_solving_the_task_shows_in_the_thread(en, asker, task):
    thread = _open(asker, task)
    task_answer_submit(user=asker, task=task, data={"answer": "42"})
    en.force_login(asker)
    html = en.get(reverse("chat:thread", args=[thread.pk])).content.decode()
    assert "You solved the task. Well done!" in html
    assert "✓ solved" in html


# --- Polling ------------------------------------------------------------------------------


def test_polling_answers_the_newer_messages_only(en, asker, task, moderator):
    thread = _open(asker, task)
    first = thread.messages.get()
    reply = message_post(thread=thread, author=moderator, text="New answer")
    en.force_login(asker)
    url = reverse("chat:thread-messages", args=[thread.pk])
    html = en.get(url, {"after": first.pk}).content.decode()
    assert f'id="message-{reply.pk}"' in html
    assert f'id="message-{first.pk}"' not in html
    assert en.get(url, {"after": reply.pk}).content.decode().strip() == ""
    for bad in ("x", "-1", "99999999999999999999"):
        assert en.get(url, {"after": bad}).status_code == 400


def test_polling_query_count_is_pinned(en, asker, task, moderator, django_assert_num_queries):
    thread = _open(asker, task)
    en.force_login(asker)
    url = reverse("chat:thread-messages", args=[thread.pk])
    message_post(thread=thread, author=moderator, text="one")
    with django_assert_num_queries(7) as few:
        en.get(url, {"after": 0})
    for n in range(10):
        message_post(thread=thread, author=moderator, text=f"more {n}")
    with django_assert_num_queries(len(few.captured_queries)):
        en.get(url, {"after": 0})


# --- My threads and support ---------------------------------------------------------------


def test_my_threads_lists_only_mine_with_unread_marks(
    en, asker, task, moderator, django_assert_num_queries
):
    thread = _open(asker, task)
    support_thread_open(student=UserFactory(), text="Someone else's")
    message_post(thread=thread, author=moderator, text="Answer")
    en.force_login(asker)
    url = reverse("chat:my-threads")
    with django_assert_num_queries(5) as few:
        html = en.get(url).content.decode()
    assert "Шесть на семь" in html
    assert "new answer" in html
    assert "Someone else" not in html
    for n in range(6):
        support_thread_open(student=asker, text=f"Question {n}")
    with django_assert_num_queries(len(few.captured_queries)):
        html = en.get(url).content.decode()
    assert html.count('class="thread-row') == 7


def test_a_support_question_from_the_faq_link(en, student, course):
    en.force_login(student)
    url = reverse("chat:support-new")
    page = en.get(url, {"q": "Как оплатить <частями>?"}).content.decode()
    assert ">Как оплатить &lt;частями&gt;?</textarea>" in page
    assert f'<option value="{course.pk}">' in page
    response = en.post(url, {"text": "Как оплатить частями?", "course": str(course.pk)})
    thread = Thread.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("chat:thread", args=[thread.pk])
    assert (thread.kind, thread.course, thread.subject) == (
        "support",
        course,
        "Как оплатить частями?",
    )
    bad = en.post(url, {"text": "x", "course": "999999"})
    assert bad.status_code == 400
    assert "Choose a course from the list" in bad.content.decode()
    assert Thread.objects.count() == 1


def test_the_pages_ask_anonymous_visitors_to_sign_in(client, asker, task):
    thread = _open(asker, task)
    for url in (
        reverse("chat:my-threads"),
        reverse("chat:thread", args=[thread.pk]),
        reverse("chat:support-new"),
        reverse("chat:task-ask", args=[task.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/" in response["Location"]


def test_a_moderator_sets_a_tasks_own_number_in_the_workspace(en, moderator, task, student):
    from parta.catalog.models import AnswerKind
    from parta.catalog.tests.test_workspace import task_data

    en.force_login(moderator)
    url = reverse("catalog:workspace-task", args=[task.pk])
    assert 'name="chat_ask_after"' in en.get(url).content.decode()
    data = task_data(kind=AnswerKind.TEXT, answer_text="42", chat_ask_after="1")
    assert en.post(url, data).status_code == 302
    task.refresh_from_db()
    assert task.chat_ask_after == 1
    refused = en.post(url, {**data, "chat_ask_after": "-1"})
    assert refused.status_code == 200
    task.refresh_from_db()
    assert task.chat_ask_after == 1
    # Emptied: the school's setting again.
    assert en.post(url, {**data, "chat_ask_after": ""}).status_code == 302
    task.refresh_from_db()
    assert task.chat_ask_after is None
