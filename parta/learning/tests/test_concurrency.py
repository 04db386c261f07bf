"""Answers arriving at the same time, on PostgreSQL (real row locks)."""

import uuid

import pytest

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import TaskFactory
from parta.common.testing.concurrency import run_together
from parta.learning.models import DailyActivity, Submission, TaskProgress
from parta.learning.services import task_answer_submit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_together(count: int, work) -> list:
    results, errors = run_together(count, work, timeout=30)
    assert not errors, errors
    return results


def test_same_form_sent_20_times_at_once_is_recorded_once():
    task = TaskFactory()
    user = UserFactory()
    AccessGrantFactory(user=user, course=task.topic.course)
    key = uuid.uuid4()
    results = _run_together(
        20,
        lambda _i: task_answer_submit(user=user, task=task, data={"answer": "42"}, client_key=key),
    )
    assert Submission.objects.count() == 1
    assert TaskProgress.objects.get().attempts == 1
    assert sum(1 for r in results if not r.replayed) == 1
    assert DailyActivity.objects.get().correct_answers == 1


def test_parallel_answers_are_all_counted_and_solved_once():
    task = TaskFactory()
    user = UserFactory()
    AccessGrantFactory(user=user, course=task.topic.course)
    results = _run_together(
        16,
        lambda i: task_answer_submit(
            user=user, task=task, data={"answer": "42" if i % 2 else "0"}
        ),
    )
    progress = TaskProgress.objects.get()
    assert progress.attempts == 16
    assert progress.wrong_attempts == 8
    assert sum(1 for r in results if r.newly_solved) == 1
    day = DailyActivity.objects.get()
    assert (day.correct_answers, day.tasks_solved) == (8, 1)
