"""Writes for learning: answering tasks and taking tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.access.selectors import access_check
from parta.accounts.models import User
from parta.catalog.models import Task, Test, Topic
from parta.common.errors import ApplicationError, Conflict, PermissionDenied
from parta.common.time import school_day
from parta.learning import hooks
from parta.learning.checking import is_correct, parse_answer
from parta.learning.models import (
    DailyActivity,
    Submission,
    TaskProgress,
    TestAnswer,
    TestAttempt,
)

# Network slack for an answer sent just as the timer ran out.
TEST_GRACE = timedelta(seconds=5)


def ensure_topic_open(*, user: User, topic: Topic) -> None:
    """Raise PermissionDenied unless ``user`` may work on ``topic`` now."""
    decision = access_check(user=user, course_id=topic.course_id)
    if not decision.allowed:
        raise PermissionDenied(_("You do not have access to this course."))
    if not decision.staff and not topic.is_open():
        opens = timezone.localtime(topic.opens_at).strftime("%d.%m.%Y %H:%M")
        raise PermissionDenied(_("This topic opens on %(date)s.") % {"date": opens})


@dataclass(frozen=True)
class AnswerResult:
    submission: Submission
    progress: TaskProgress
    newly_solved: bool
    replayed: bool = False

    @property
    def is_correct(self) -> bool:
        return self.submission.is_correct


def _record_day(*, user_id: int, course_id: int, day, correct: bool, solved: bool) -> None:
    if not (correct or solved):
        return
    try:
        with transaction.atomic():
            DailyActivity.objects.get_or_create(user_id=user_id, course_id=course_id, day=day)
    except IntegrityError:
        pass  # created by a concurrent answer; the update below still applies
    DailyActivity.objects.filter(user_id=user_id, course_id=course_id, day=day).update(
        correct_answers=F("correct_answers") + int(correct),
        tasks_solved=F("tasks_solved") + int(solved),
    )


@transaction.atomic
def task_answer_submit(
    *, user: User, task: Task, data, client_key: str | None = None
) -> AnswerResult:
    """Check and record an answer to a standalone task. A repeated ``client_key``
    (a resent form) returns the first result and records nothing new; a key already
    used on another task is refused, so a replay never speaks of another task."""
    if task.test_id is not None:
        raise ApplicationError(_("This task is part of a test; answer it inside the test."))
    topic = task.topic
    ensure_topic_open(user=user, topic=topic)
    choices = list(task.choices.all())
    answer = parse_answer(task, data, choices)

    if client_key is not None:
        earlier = Submission.objects.filter(user=user, client_key=client_key).first()
        if earlier is not None:
            return _replay(earlier, task=task)

    progress, _created = TaskProgress.objects.select_for_update().get_or_create(
        user=user, task=task, defaults={"course_id": topic.course_id}
    )
    now = timezone.now()
    correct = is_correct(task, answer, choices)
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                user=user,
                task=task,
                course_id=topic.course_id,
                answer=answer,
                is_correct=correct,
                points=task.points if correct else 0,
                client_key=client_key,
                created_at=now,
            )
    except IntegrityError:
        # The same form sent twice at once: the other request recorded it.
        earlier = Submission.objects.filter(user=user, client_key=client_key).first()
        if earlier is None:
            raise
        return _replay(earlier, task=task)

    newly_solved = correct and progress.solved_at is None
    progress.attempts += 1
    progress.wrong_attempts += 0 if correct else 1
    progress.last_answer_at = now
    if newly_solved:
        progress.solved_at = now
    progress.save(update_fields=["attempts", "wrong_attempts", "last_answer_at", "solved_at"])
    _record_day(
        user_id=user.id,
        course_id=topic.course_id,
        day=school_day(now),
        correct=correct,
        solved=newly_solved,
    )
    if newly_solved:
        hooks.task_solved(user=user, task=task, at=now)
    return AnswerResult(submission=submission, progress=progress, newly_solved=newly_solved)


def _replay(submission: Submission, *, task: Task) -> AnswerResult:
    if submission.task_id != task.id:
        raise Conflict(
            _(
                "This client_key was already used for another answer to another task. "
                "Send a new key with each new answer."
            ),
            field="client_key",
        )
    # The task's own progress: a replay tells only about the task it answered.
    progress = TaskProgress.objects.get(user_id=submission.user_id, task_id=task.id)
    return AnswerResult(
        submission=submission, progress=progress, newly_solved=False, replayed=True
    )


# --- Tests -------------------------------------------------------------------------


@transaction.atomic
def attempt_start(*, user: User, test: Test) -> TestAttempt:
    """Start the user's one attempt, or return it if already started."""
    ensure_topic_open(user=user, topic=test.topic)
    now = timezone.now()
    try:
        with transaction.atomic():
            return TestAttempt.objects.create(
                user=user,
                test=test,
                started_at=now,
                deadline=now + timedelta(minutes=test.time_limit_minutes),
                max_score=sum(task.points for task in test.tasks.all()),
            )
    except IntegrityError:
        return TestAttempt.objects.get(user=user, test=test)


def _ensure_attempt_allowed(attempt: TestAttempt) -> None:
    """A test is worked on only while its student may open it: access that ended (a
    refund, an expiry, a freeze) stops autosave and submission alike."""
    test = attempt.test
    ensure_topic_open(user=attempt.user, topic=test.topic)


def _lock_open_attempt(attempt: TestAttempt) -> TestAttempt:
    attempt = TestAttempt.objects.select_for_update().get(pk=attempt.pk)
    _ensure_attempt_allowed(attempt)
    if attempt.is_submitted:
        raise Conflict(_("This test has already been submitted."))
    return attempt


def _in_time(attempt: TestAttempt, now) -> bool:
    return now <= attempt.deadline + TEST_GRACE


@transaction.atomic
def attempt_answer_save(*, attempt: TestAttempt, task: Task, data) -> TestAnswer:
    """Save (or replace) the answer to one task of a running attempt."""
    attempt = _lock_open_attempt(attempt)
    now = timezone.now()
    if not _in_time(attempt, now):
        raise Conflict(_("Time is up: answers are no longer accepted."))
    if task.test_id != attempt.test_id:
        raise ApplicationError(_("This task is not part of the test."))
    choices = list(task.choices.all())
    answer = parse_answer(task, data, choices)
    correct = is_correct(task, answer, choices)
    saved, _created = TestAnswer.objects.update_or_create(
        attempt=attempt,
        task=task,
        defaults={
            "answer": answer,
            "is_correct": correct,
            "points": task.points if correct else 0,
            "answered_at": now,
        },
    )
    return saved


@dataclass(frozen=True)
class AttemptSubmitResult:
    attempt: TestAttempt
    late: bool
    already_submitted: bool = False
    # Task id -> message for answers that could not be read.
    invalid: dict | None = None


@transaction.atomic
def attempt_submit(
    *, attempt: TestAttempt, answers: dict[int, object] | None = None
) -> AttemptSubmitResult:
    """Finish the attempt: save the answers sent with it if still in time, then score
    the whole test once. Late answers are refused; the ones saved in time count."""
    locked = TestAttempt.objects.select_for_update().get(pk=attempt.pk)
    if locked.is_submitted:
        return AttemptSubmitResult(attempt=locked, late=False, already_submitted=True)
    _ensure_attempt_allowed(locked)
    now = timezone.now()
    late = not _in_time(locked, now)
    invalid: dict[int, str] = {}
    if answers and not late:
        tasks = {task.id: task for task in locked.test.tasks.prefetch_related("choices")}
        for task_id, data in answers.items():
            task = tasks.get(task_id)
            if task is None:
                continue
            try:
                attempt_answer_save(attempt=locked, task=task, data=data)
            except ApplicationError as exc:
                invalid[task_id] = exc.message
    locked.score = sum(locked.answers.values_list("points", flat=True))
    locked.submitted_at = min(now, locked.deadline + TEST_GRACE)
    locked.save(update_fields=["score", "submitted_at"])
    return AttemptSubmitResult(attempt=locked, late=late, invalid=invalid or None)
