"""The inbox on PostgreSQL: moderators acting on one thread at the same moment (real row
locks: one of them takes it and the others are told who did; one closes it and the other
is told it is closed already), and the list read off its own index."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.chat import inbox
from parta.chat.models import Thread, ThreadState
from parta.chat.tests.test_inbox import make_thread
from parta.common.errors import Conflict
from parta.common.testing.concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_english(work):
    """``work(i)`` with messages in English (each thread starts in the school's language)."""

    def run(i):
        with translation.override("en"):
            return work(i)

    return run


def _thread() -> Thread:
    return make_thread(UserFactory(), asked_at=timezone.now() - timedelta(minutes=5))


def test_two_moderators_taking_the_same_thread_at_once_one_wins():
    for _round in range(5):
        thread = _thread()
        mods = [ModeratorFactory(full_name=f"Модератор {n}") for n in range(2)]
        results, errors = run_together(
            2,
            _in_english(
                lambda i, thread=thread, mods=mods: inbox.thread_take(
                    thread=Thread.objects.get(pk=thread.pk), moderator=mods[i]
                )
            ),
            timeout=30,
        )
        thread.refresh_from_db()
        assert len(results) == 1, errors
        assert len(errors) == 1
        assert isinstance(errors[0], Conflict)
        assert results[0].assignee == thread.assignee
        assert errors[0].message == (f"{thread.assignee.full_name} has already taken this thread.")


def test_eight_moderators_at_once_still_give_the_thread_one_owner():
    thread = _thread()
    mods = [ModeratorFactory() for _n in range(8)]
    results, errors = run_together(
        8,
        lambda i: inbox.thread_take(thread=Thread.objects.get(pk=thread.pk), moderator=mods[i]),
        timeout=30,
    )
    thread.refresh_from_db()
    assert len(results) == 1
    assert len(errors) == 7
    assert all(isinstance(e, Conflict) for e in errors)
    assert {e.extra["assignee"] for e in errors} == {thread.assignee_id}


def test_two_moderators_closing_at_once_one_closes_the_other_is_told():
    thread = _thread()
    mods = [ModeratorFactory() for _n in range(2)]
    results, errors = run_together(
        2,
        _in_english(
            lambda i: inbox.thread_close(thread=Thread.objects.get(pk=thread.pk), by=mods[i])
        ),
        timeout=30,
    )
    assert len(results) == 1
    assert [e.message for e in errors] == ["This thread is already closed."]
    thread.refresh_from_db()
    assert thread.state == ThreadState.CLOSED


def test_the_inbox_reads_its_first_page_off_its_index(moderator):
    """With many threads the planner walks ``chat_inbox_order`` (migration 0003) and stops
    after a page, instead of sorting every thread."""
    from django.db import connection

    student = UserFactory()
    now = timezone.now()
    Thread.objects.bulk_create(
        Thread(
            kind="support",
            student=student,
            subject=f"Вопрос {n}",
            state=ThreadState.AWAITING_MODERATOR if n % 3 == 0 else ThreadState.AWAITING_STUDENT,
            waiting_since=now - timedelta(minutes=n) if n % 3 == 0 else None,
            last_message_at=now - timedelta(minutes=n),
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE chat_thread")
    plan = inbox.inbox_threads(viewer=moderator)[:30].explain()
    assert "chat_inbox_order" in plan, plan
    assert "Sort" not in plan.split("chat_inbox_order")[0], plan
