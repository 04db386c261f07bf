import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from parta.catalog.tests.factories import TaskFactory, TestFactory, TopicFactory
from parta.common.errors import ApplicationError, Conflict, PermissionDenied, ValidationFailed
from parta.common.time import school_today
from parta.learning.models import DailyActivity, Submission, TaskProgress, TestAnswer
from parta.learning.services import (
    attempt_answer_save,
    attempt_start,
    attempt_submit,
    task_answer_submit,
)

pytestmark = pytest.mark.django_db


def test_wrong_then_right_records_attempts_progress_and_the_day(student, task):
    wrong = task_answer_submit(user=student, task=task, data={"answer": "41"})
    assert not wrong.is_correct
    assert not wrong.newly_solved
    right = task_answer_submit(user=student, task=task, data={"answer": " 42 "})
    assert right.is_correct
    assert right.newly_solved
    again = task_answer_submit(user=student, task=task, data={"answer": "42"})
    assert again.is_correct
    assert not again.newly_solved

    progress = TaskProgress.objects.get(user=student, task=task)
    assert (progress.attempts, progress.wrong_attempts) == (3, 1)
    assert progress.solved_at == right.submission.created_at
    day = DailyActivity.objects.get(user=student, course=task.topic.course)
    assert day.day == school_today()
    assert (day.correct_answers, day.tasks_solved) == (2, 1)
    assert Submission.objects.filter(user=student).count() == 3
    assert Submission.objects.get(pk=right.submission.pk).points == task.points


def test_a_resent_form_is_recorded_once(student, task):
    key = uuid.uuid4()
    first = task_answer_submit(user=student, task=task, data={"answer": "42"}, client_key=key)
    second = task_answer_submit(user=student, task=task, data={"answer": "42"}, client_key=key)
    assert second.replayed
    assert second.submission.pk == first.submission.pk
    assert Submission.objects.count() == 1
    assert TaskProgress.objects.get().attempts == 1
    assert DailyActivity.objects.get().correct_answers == 1


def test_malformed_answer_records_nothing(student, topic):
    task = TaskFactory(topic=topic, kind="number")
    with pytest.raises(ValidationFailed):
        task_answer_submit(user=student, task=task, data={"answer": "forty-two"})
    assert not Submission.objects.exists()
    assert not TaskProgress.objects.exists()


@pytest.mark.parametrize("who", ["outsider", "expired_student"])
def test_no_or_expired_access_is_refused(request, who, task):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        task_answer_submit(user=user, task=task, data={"answer": "42"})
    assert not Submission.objects.exists()


def test_topic_not_yet_open_is_refused_with_its_date(student, course):
    topic = TopicFactory(course=course, opens_at=timezone.now() + timedelta(days=2))
    task = TaskFactory(topic=topic)
    with pytest.raises(PermissionDenied, match="opens on"):
        task_answer_submit(user=student, task=task, data={"answer": "42"})


def test_test_tasks_are_answered_only_inside_the_test(student, topic):
    test = TestFactory(topic=topic)
    task = TaskFactory(test=test)
    with pytest.raises(ApplicationError, match="part of a test"):
        task_answer_submit(user=student, task=task, data={"answer": "42"})


# --- Tests ---------------------------------------------------------------------------


@pytest.fixture
def exam(topic):
    test = TestFactory(topic=topic, time_limit_minutes=10)
    TaskFactory(test=test, answer_text="42", points=2)
    TaskFactory(test=test, kind="number", answer_number=7, points=3)
    return test


def test_attempt_runs_once_and_is_scored_whole(student, exam):
    attempt = attempt_start(user=student, test=exam)
    assert attempt_start(user=student, test=exam).pk == attempt.pk  # one attempt
    assert attempt.max_score == 5
    text_task, number_task = exam.tasks.order_by("id")
    attempt_answer_save(attempt=attempt, task=text_task, data={"answer": "42"})
    attempt_answer_save(attempt=attempt, task=text_task, data={"answer": "41"})  # replaced
    result = attempt_submit(attempt=attempt, answers={number_task.id: {"answer": "7"}})
    assert not result.late
    assert result.attempt.score == 3
    assert TestAnswer.objects.filter(attempt=attempt).count() == 2

    again = attempt_submit(attempt=attempt, answers={text_task.id: {"answer": "42"}})
    assert again.already_submitted
    assert again.attempt.score == 3
    with pytest.raises(Conflict):
        attempt_answer_save(attempt=attempt, task=text_task, data={"answer": "42"})


def test_late_answers_are_refused_and_saved_ones_still_count(student, exam, monkeypatch):
    attempt = attempt_start(user=student, test=exam)
    text_task, number_task = exam.tasks.order_by("id")
    attempt_answer_save(attempt=attempt, task=text_task, data={"answer": "42"})
    after = attempt.deadline + timedelta(minutes=1)
    monkeypatch.setattr("parta.learning.services.timezone.now", lambda: after)
    with pytest.raises(Conflict, match="Time is up"):
        attempt_answer_save(attempt=attempt, task=number_task, data={"answer": "7"})
    result = attempt_submit(attempt=attempt, answers={number_task.id: {"answer": "7"}})
    assert result.late
    assert result.attempt.score == 2
    assert not TestAnswer.objects.filter(task=number_task).exists()


def test_answer_to_a_task_of_another_test_is_refused(student, exam, topic):
    attempt = attempt_start(user=student, test=exam)
    stranger = TaskFactory(test=TestFactory(topic=topic))
    with pytest.raises(ApplicationError):
        attempt_answer_save(attempt=attempt, task=stranger, data={"answer": "42"})


def test_attempt_needs_access(outsider, exam):
    with pytest.raises(PermissionDenied):
        attempt_start(user=outsider, test=exam)
