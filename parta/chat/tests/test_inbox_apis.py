"""The inbox's API: the list with filters (order, unread, the header's number), take and
assign, notes, close and reopen; who may use it; errors in the API's shape; the schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.chat import inbox
from parta.chat.models import ThreadNote, ThreadSeen, ThreadState
from parta.chat.tests.test_inbox import make_thread

pytestmark = pytest.mark.django_db


def _ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


def _api(user) -> APIClient:
    """Answers in English unless a test asks for Russian (the API's default)."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(moderator) -> APIClient:
    return _api(moderator)


@pytest.fixture
def threads(student, moderator, task, course):
    return {
        "task": make_thread(student, asked_at=_ago(90), task=task, assignee=moderator),
        "support": make_thread(student, asked_at=_ago(30), subject="Оплата"),
        "answered": make_thread(student, asked_at=_ago(200), answered_by=moderator),
    }


def test_the_list_is_ordered_with_unread_marks_and_the_headers_number(
    api, moderator, threads, student, course, task
):
    ThreadSeen.objects.create(thread=threads["support"], user=moderator, seen_at=timezone.now())
    response = api.get("/api/v1/inbox/threads/")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["awaiting"], body["next"], body["previous"]) == (3, 2, None, None)
    assert [t["id"] for t in body["results"]] == [
        threads["task"].pk,
        threads["support"].pk,
        threads["answered"].pk,
    ]
    first = body["results"][0]
    assert first["unread"] is True
    assert body["results"][1]["unread"] is False
    assert first["student"] == {
        "id": student.pk,
        "name": student.full_name,
        "email": student.email,
    }
    assert first["assignee"] == {"id": moderator.pk, "name": moderator.full_name}
    assert first["course"] == {"id": course.pk, "title": course.title}
    assert (first["kind"], first["task"], first["state"]) == (
        "task",
        task.pk,
        "awaiting_moderator",
    )
    assert first["url"] == f"/inbox/threads/{threads['task'].pk}/"
    assert first["waiting_since"] is not None
    assert body["results"][2]["waiting_since"] is None


def test_the_list_filters(api, threads, course):
    def ids(**params):
        return [t["id"] for t in api.get("/api/v1/inbox/threads/", params).json()["results"]]

    assert ids(show="waiting") == [threads["task"].pk, threads["support"].pk]
    assert ids(show="mine") == [threads["task"].pk]
    assert ids(show="unassigned") == [threads["support"].pk, threads["answered"].pk]
    assert ids(kind="support", show="waiting") == [threads["support"].pk]
    assert ids(course=course.pk) == [threads["task"].pk]
    assert ids(show="closed") == []
    page = api.get("/api/v1/inbox/threads/", {"limit": 1, "offset": 1}).json()
    assert [t["id"] for t in page["results"]] == [threads["support"].pk]
    assert page["next"] is not None


def test_bad_filters_are_a_400_naming_each(api):
    response = api.get("/api/v1/inbox/threads/", {"show": "all-of-it", "kind": "x", "course": "-"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert set(body["errors"]) == {"show", "kind", "course"}


def test_students_get_403_whatever_the_thread(student, threads):
    client = _api(student)
    pk = threads["task"].pk
    for method, url in [
        ("get", "/api/v1/inbox/threads/"),
        ("post", f"/api/v1/inbox/threads/{pk}/take/"),
        ("post", f"/api/v1/inbox/threads/{pk}/assign/"),
        ("get", f"/api/v1/inbox/threads/{pk}/notes/"),
        ("post", f"/api/v1/inbox/threads/{pk}/notes/"),
        ("post", f"/api/v1/inbox/threads/{pk}/close/"),
        ("post", "/api/v1/inbox/threads/999999/reopen/"),
    ]:
        response = getattr(client, method)(url, {"assignee": student.pk, "text": "x"})
        assert response.status_code == 403, url
        assert response.json() == {
            "detail": "Only moderators and staff work in the inbox.",
            "code": "permission_denied",
        }
    assert not ThreadNote.objects.exists()
    assert APIClient().get("/api/v1/inbox/threads/").status_code == 401  # no one signed in


def test_an_unknown_thread_is_a_404(api):
    response = api.post("/api/v1/inbox/threads/999999/take/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_take_then_another_moderator_is_refused_with_who_has_it(api, moderator, threads):
    pk = threads["support"].pk
    response = api.post(f"/api/v1/inbox/threads/{pk}/take/")
    assert response.status_code == 200
    assert response.json()["assignee"] == {"id": moderator.pk, "name": moderator.full_name}
    other = ModeratorFactory(full_name="Пётр Петрович")
    response = _api(other).post(f"/api/v1/inbox/threads/{pk}/take/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Мария Ивановна has already taken this thread.",
        "code": "conflict",
        "assignee": moderator.pk,
    }


def test_assign_to_a_moderator_to_nobody_and_not_to_a_student(api, threads, student, staff):
    url = f"/api/v1/inbox/threads/{threads['support'].pk}/assign/"
    response = api.post(url, {"assignee": staff.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["assignee"]["id"] == staff.pk
    response = api.post(url, {"assignee": None}, format="json")
    assert response.status_code == 200
    assert response.json()["assignee"] is None

    response = api.post(url, {"assignee": student.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["assignee"]
    for bad in ({"assignee": 999999}, {"assignee": 2**63}, {"assignee": "x"}, {}):
        response = api.post(url, bad, format="json")
        assert response.status_code == 400, bad
        assert "assignee" in response.json()["errors"]
    threads["support"].refresh_from_db()
    assert threads["support"].assignee is None


def test_notes_are_listed_and_added(api, moderator, threads):
    url = f"/api/v1/inbox/threads/{threads['task'].pk}/notes/"
    assert api.get(url).json() == {"results": []}
    response = api.post(url, {"text": "Позвонить маме"}, format="json")
    assert response.status_code == 201
    note = response.json()
    assert (note["text"], note["author"]["id"], note["thread"]) == (
        "Позвонить маме",
        moderator.pk,
        threads["task"].pk,
    )
    inbox.thread_note_add(thread=threads["task"], author=ModeratorFactory(), text="Второй")
    assert [n["text"] for n in api.get(url).json()["results"]] == ["Позвонить маме", "Второй"]
    for bad in ({"text": "   "}, {"text": "x" * 4001}, {}):
        response = api.post(url, bad, format="json")
        assert response.status_code == 400, bad
        assert "text" in response.json()["errors"]
    assert ThreadNote.objects.count() == 2


def test_close_and_reopen(api, threads):
    pk = threads["support"].pk
    response = api.post(f"/api/v1/inbox/threads/{pk}/close/")
    assert response.status_code == 200
    assert response.json()["state"] == "closed"
    assert response.json()["closed_at"] is not None
    assert api.post(f"/api/v1/inbox/threads/{pk}/close/").status_code == 409
    response = api.post(f"/api/v1/inbox/threads/{pk}/reopen/")
    assert response.status_code == 200
    assert response.json()["state"] == ThreadState.AWAITING_MODERATOR
    response = api.post(f"/api/v1/inbox/threads/{pk}/reopen/")
    assert response.status_code == 409
    assert response.json()["detail"] == "This thread is open already."


def test_answers_speak_russian_when_asked(api, threads):
    api.credentials(HTTP_ACCEPT_LANGUAGE="ru")
    pk = threads["support"].pk
    api.post(f"/api/v1/inbox/threads/{pk}/close/")
    response = api.post(f"/api/v1/inbox/threads/{pk}/close/")
    assert response.json()["detail"] == "Эта переписка уже закрыта."


@pytest.mark.parametrize("size", [3, 30])
def test_the_list_costs_the_same_queries_for_3_or_30_threads(
    api, student, course, size, django_assert_num_queries
):
    for n in range(size):
        make_thread(UserFactory() if n % 2 else student, asked_at=_ago(100 - n), course=course)
    # user (forced), count, rows, the header's number.
    with django_assert_num_queries(3):
        response = api.get("/api/v1/inbox/threads/", {"limit": 100})
    assert len(response.json()["results"]) == size


def test_the_schema_lists_the_inbox(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/inbox/threads/",
        "/api/v1/inbox/threads/{id}/take/",
        "/api/v1/inbox/threads/{id}/assign/",
        "/api/v1/inbox/threads/{id}/notes/",
        "/api/v1/inbox/threads/{id}/close/",
        "/api/v1/inbox/threads/{id}/reopen/",
    ):
        assert path in paths, path
    listing = paths["/api/v1/inbox/threads/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"show", "kind", "course", "limit"}
    assert set(paths["/api/v1/inbox/threads/{id}/notes/"]) >= {"get", "post"}
