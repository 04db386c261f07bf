"""Chat's API for the current user: threads, opening, messages, read marks; the access
matrix, the error shape (403 with answers_left, 429 with retry_after), replays and pinned
query counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.chat.models import ChatMessage, Thread
from parta.chat.services import message_post, support_thread_open, task_thread_open
from parta.chat.tests.conftest import answer_wrongly
from parta.learning.services import task_answer_submit

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _api(user) -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(user)
    return api


def test_asking_too_early_is_a_403_with_how_many_answers_are_left(student, task):
    answer_wrongly(student, task, times=1)
    response = _api(student).post(
        "/api/v1/chat/threads/task/", {"task": task.pk, "text": "Help"}, format="json"
    )
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "permission_denied"
    assert body["answers_left"] == 2
    assert "after 2 more wrong answers" in body["detail"]
    assert not Thread.objects.exists()


def test_opening_a_task_thread_then_asking_again(asker, task, course):
    api = _api(asker)
    created = api.post(
        "/api/v1/chat/threads/task/",
        {"task": task.pk, "text": "Where is my mistake?", "client_key": "a-1"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["opened"] is True
    assert body["kind"] == "task"
    assert body["state"] == "awaiting_moderator"
    assert body["task"] == {"id": task.pk, "title": task.title, "course_slug": course.slug}
    assert body["url"] == f"/chat/threads/{body['id']}/"
    replay = api.post(
        "/api/v1/chat/threads/task/",
        {"task": task.pk, "text": "Where is my mistake?", "client_key": "a-1"},
        format="json",
    )
    assert replay.status_code == 200
    assert replay.json()["id"] == body["id"]
    assert ChatMessage.objects.count() == 1
    again = api.post(
        "/api/v1/chat/threads/task/", {"task": task.pk, "text": "More"}, format="json"
    )
    assert again.status_code == 200
    assert ChatMessage.objects.count() == 2


def test_a_task_without_access_or_unknown_cannot_be_opened(task):
    api = _api(UserFactory())
    refused = api.post(
        "/api/v1/chat/threads/task/", {"task": task.pk, "text": "Help"}, format="json"
    )
    assert refused.status_code == 403
    assert "do not have access" in refused.json()["detail"]
    missing = api.post(
        "/api/v1/chat/threads/task/", {"task": 2**63 - 1, "text": "Help"}, format="json"
    )
    assert missing.status_code == 404
    huge = api.post("/api/v1/chat/threads/task/", {"task": 2**63, "text": "x"}, format="json")
    assert huge.status_code == 400
    assert not Thread.objects.exists()


def test_a_support_question_with_a_course_and_a_file(student, course):
    api = _api(student)
    response = api.post(
        "/api/v1/chat/threads/support/",
        {"text": "", "course": course.pk, "attachment": SimpleUploadedFile("receipt.png", PNG)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["course"] == {"id": course.pk, "title": course.title}
    assert body["subject"] == "receipt.png"
    hidden = CourseFactory(is_published=False)
    bad = api.post(
        "/api/v1/chat/threads/support/", {"text": "x", "course": hidden.pk}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"course": ["No such course."]}


def test_my_threads_only_mine_with_unread_and_pinned_queries(
    asker, task, moderator, django_assert_num_queries
):
    thread = task_thread_open(student=asker, task=task, text="Q")
    support_thread_open(student=UserFactory(), text="Not yours")
    message_post(thread=thread, author=moderator, text="Answer")
    api = _api(asker)
    with django_assert_num_queries(2) as few:
        body = api.get("/api/v1/chat/threads/").json()
    assert body["count"] == 1
    assert [(t["id"], t["unread"]) for t in body["results"]] == [(thread.pk, True)]
    for n in range(5):
        support_thread_open(student=asker, text=f"Question {n}")
    with django_assert_num_queries(len(few.captured_queries)):
        assert api.get("/api/v1/chat/threads/").json()["count"] == 6
    assert api.post(f"/api/v1/chat/threads/{thread.pk}/read/").status_code == 200
    assert api.get(f"/api/v1/chat/threads/{thread.pk}/").json()["unread"] is False


def test_another_students_thread_is_a_404_and_a_moderator_sees_any(asker, task, moderator):
    thread = task_thread_open(student=asker, task=task, text="Q")
    stranger = _api(UserFactory())
    for method, url in (
        ("get", f"/api/v1/chat/threads/{thread.pk}/"),
        ("get", f"/api/v1/chat/threads/{thread.pk}/messages/"),
        ("post", f"/api/v1/chat/threads/{thread.pk}/messages/"),
        ("post", f"/api/v1/chat/threads/{thread.pk}/read/"),
    ):
        response = getattr(stranger, method)(url, {"text": "hi"}, format="json")
        assert response.status_code == 404, (method, url)
        assert response.json()["code"] == "not_found"
    assert thread.messages.count() == 1

    detail = _api(moderator).get(f"/api/v1/chat/threads/{thread.pk}/").json()
    assert detail["attempts"]["total"] == 3
    assert detail["attempts"]["wrong"] == 3
    assert [a["answer"] for a in detail["attempts"]["items"]] == ["wrong 0", "wrong 1", "wrong 2"]


def test_messages_list_and_post_with_after_replays_and_limits(asker, task, moderator):
    thread = task_thread_open(student=asker, task=task, text="<b>Q</b>")
    first = thread.messages.get()
    api = _api(asker)
    url = f"/api/v1/chat/threads/{thread.pk}/messages/"
    posted = api.post(url, {"text": "More", "client_key": "m-1"}, format="json")
    assert posted.status_code == 201
    assert posted.json()["replayed"] is False
    assert posted.json()["source"] == "api"
    replay = api.post(url, {"text": "More", "client_key": "m-1"}, format="json")
    assert (replay.status_code, replay.json()["replayed"]) == (200, True)
    assert replay.json()["id"] == posted.json()["id"]
    reply = message_post(thread=thread, author=moderator, text="Answer")

    listed = api.get(url).json()
    assert [m["id"] for m in listed["results"]] == [first.pk, posted.json()["id"], reply.pk]
    assert listed["results"][0]["text"] == "<b>Q</b>"  # as typed; pages escape it
    assert listed["results"][0]["mine"] is True
    assert listed["results"][2]["from_school"] is True
    assert listed["more"] is False
    newer = api.get(url, {"after": first.pk, "limit": 1}).json()
    assert [m["id"] for m in newer["results"]] == [posted.json()["id"]]
    assert newer["more"] is True
    for bad in ({"after": "x"}, {"limit": 0}, {"limit": 201}, {"after": 2**63}):
        response = api.get(url, bad)
        assert response.status_code == 400, bad
        assert response.json()["code"] == "validation_failed"


def test_hostile_posts_are_refused_with_the_error_shape(asker, task):
    thread = task_thread_open(student=asker, task=task, text="Q")
    api = _api(asker)
    url = f"/api/v1/chat/threads/{thread.pk}/messages/"
    too_long = api.post(url, {"text": "x" * 4001}, format="json")
    assert too_long.status_code == 400
    assert too_long.json()["errors"]["text"][0].startswith("The message is too long: 4001")
    empty = api.post(url, {"text": ""}, format="json")
    assert empty.json()["errors"] == {"text": ["Write a message or attach a file."]}
    disguised = api.post(
        url,
        {"text": "x", "attachment": SimpleUploadedFile("doc.pdf", b"MZ\x90\x00")},
        format="multipart",
    )
    assert disguised.status_code == 400
    assert "content is not pdf" in disguised.json()["errors"]["attachment"][0]
    bad_key = api.post(url, {"text": "x", "client_key": "é" * 3}, format="json")
    assert bad_key.status_code == 400
    assert "client_key" in bad_key.json()["errors"]
    assert thread.messages.count() == 1


def test_the_rate_limit_is_a_429_with_retry_after(asker, task, settings):
    settings.PARTA_CHAT_MESSAGES_PER_MINUTE = 2
    thread = task_thread_open(student=asker, task=task, text="Q")
    api = _api(asker)
    url = f"/api/v1/chat/threads/{thread.pk}/messages/"
    assert api.post(url, {"text": "2"}, format="json").status_code == 201
    refused = api.post(url, {"text": "3"}, format="json")
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert 1 <= body["retry_after"] <= 60
    assert thread.messages.count() == 2


def test_the_messages_list_query_count_is_pinned(
    asker, task, moderator, django_assert_num_queries
):
    thread = task_thread_open(student=asker, task=task, text="Q")
    api = _api(asker)
    url = f"/api/v1/chat/threads/{thread.pk}/messages/"
    with django_assert_num_queries(2) as few:
        api.get(url)
    for n in range(10):
        message_post(thread=thread, author=moderator if n % 2 else asker, text=f"{n}")
    task_answer_submit(user=asker, task=task, data={"answer": "42"})  # a line from Parta
    with django_assert_num_queries(len(few.captured_queries)):
        results = api.get(url).json()["results"]
    assert len(results) == 12
    assert results[-1]["system"] is True
    assert results[-1]["text"] == "You solved the task. Well done!"


def test_anonymous_requests_are_401():
    response = APIClient().get("/api/v1/chat/threads/")
    assert response.status_code == 401
