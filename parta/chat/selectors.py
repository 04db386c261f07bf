"""Reads for chat: who may see a thread, its messages, the student's attempts on its task,
a student's threads with unread marks, and whether a task's thread may be opened yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parta.access.selectors import access_check
from parta.catalog.models import Task
from parta.catalog.workspace import can_use_workspace
from parta.chat.models import ChatMessage, Thread, ThreadKind, ThreadSeen
from parta.common.converters import MAX_ID
from parta.common.live import live
from parta.learning.models import Submission, TaskProgress
from parta.learning.selectors import answer_text

THREADS_PER_PAGE = 30
# The newest attempts shown beside a task thread (a student who answered a thousand times
# does not make the page a thousand rows long).
ATTEMPTS_SHOWN = 50

_UNSET = object()


def ask_after(task: Task) -> int:
    """Wrong answers to ``task`` before its thread may be opened."""
    if task.chat_ask_after is not None:
        return task.chat_ask_after
    return max(0, int(live("CHAT_ASK_AFTER")))


@dataclass(frozen=True)
class AskStatus:
    """Whether a student may open (or write in) the thread about a task, and why not."""

    allowed: bool
    # Wrong answers still needed before asking (0 once allowed).
    answers_left: int
    threshold: int
    wrong_answers: int
    # The student's thread about this task, when there is one already.
    thread: Thread | None = None
    # Why not, for a person (empty when allowed).
    reason: str = ""
    # The student may not ask at all (no access, a moderator, a test's task), as opposed
    # to "not yet".
    refused: bool = False


def _answers_left_reason(left: int) -> str:
    return ngettext(
        "You can ask a moderator about this task after %(count)d more wrong answer.",
        "You can ask a moderator about this task after %(count)d more wrong answers.",
        left,
    ) % {"count": left}


def task_ask_status(*, user, task: Task, progress=_UNSET) -> AskStatus:
    """May ``user`` open the thread about ``task`` now? ``progress`` is their
    TaskProgress if the caller read it already (None: no answers yet). Two queries at
    most (the access answer is cached): the thread, and the progress if not given."""
    threshold = ask_after(task)

    def refused(reason: str) -> AskStatus:
        return AskStatus(
            allowed=False,
            answers_left=0,
            threshold=threshold,
            wrong_answers=0,
            reason=reason,
            refused=True,
        )

    if not user.is_authenticated:
        return refused(_("Sign in to ask a moderator."))
    if can_use_workspace(user):
        return refused(_("Moderators answer questions in the inbox; they do not ask them."))
    if task.test_id is not None:
        return refused(
            _("This task is part of a test: ask about it in support once the test is over.")
        )
    if not access_check(user=user, course_id=task.topic.course_id).allowed:
        return refused(_("You do not have access to this course."))
    if progress is _UNSET:
        progress = TaskProgress.objects.filter(user=user, task=task).first()
    wrong = progress.wrong_attempts if progress is not None else 0
    thread = Thread.objects.filter(kind=ThreadKind.TASK, student=user, task=task).first()
    if thread is not None or wrong >= threshold:
        return AskStatus(
            allowed=True, answers_left=0, threshold=threshold, wrong_answers=wrong, thread=thread
        )
    left = threshold - wrong
    return AskStatus(
        allowed=False,
        answers_left=left,
        threshold=threshold,
        wrong_answers=wrong,
        reason=_answers_left_reason(left),
    )


def thread_for_viewer(*, user, thread_id: int) -> Thread | None:
    """The thread if ``user`` may see it: a student their own, a moderator or staff any.
    One query (with the task, its course, the student and the assignee)."""
    if not getattr(user, "is_authenticated", False) or not 0 < thread_id <= MAX_ID:
        return None
    threads = Thread.objects.select_related("task__topic__course", "course", "student", "assignee")
    if not can_use_workspace(user):
        threads = threads.filter(student=user)
    return threads.filter(pk=thread_id).first()


def thread_messages(*, thread: Thread, after_id: int | None = None) -> QuerySet[ChatMessage]:
    """The thread's messages, oldest first (by id: posts to one thread are serialised by
    its row lock, so ids follow the order they were committed in); only those after
    ``after_id`` when given. Authors come in the same query."""
    messages = ChatMessage.objects.filter(thread=thread).select_related("author").order_by("id")
    if after_id is not None:
        messages = messages.filter(id__gt=after_id)
    return messages


@dataclass(frozen=True)
class Attempt:
    answer: str
    correct: bool
    at: datetime


class Attempts(list):
    """The student's answers to the thread's task, oldest first (a list of ``Attempt``:
    the newest ``ATTEMPTS_SHOWN``), with ``total`` and ``wrong`` answers in all and when
    the task was solved (``solved_at``)."""

    def __init__(self, items=(), *, total: int = 0, wrong: int = 0, solved_at=None):
        super().__init__(items)
        self.total = total
        self.wrong = wrong
        self.solved_at = solved_at

    @property
    def items(self) -> list[Attempt]:
        return list(self)

    @property
    def hidden(self) -> int:
        return self.total - len(self)


def task_attempts(*, thread: Thread) -> Attempts:
    """The attempts block of a task thread (empty for support, or a task since deleted):
    three queries whatever the number of answers."""
    if thread.kind != ThreadKind.TASK or thread.task_id is None:
        return Attempts()
    task = thread.task
    choices = list(task.choices.all())
    progress = TaskProgress.objects.filter(user_id=thread.student_id, task_id=task.pk).first()
    rows = list(
        Submission.objects.filter(user_id=thread.student_id, task_id=task.pk)
        .order_by("-created_at", "-id")
        .values_list("answer", "is_correct", "created_at")[:ATTEMPTS_SHOWN]
    )
    items = [
        Attempt(answer=answer_text(answer=answer, choices=choices), correct=correct, at=at)
        for answer, correct, at in reversed(rows)
    ]
    return Attempts(
        items,
        total=progress.attempts if progress else len(items),
        wrong=progress.wrong_attempts if progress else sum(not a.correct for a in items),
        solved_at=progress.solved_at if progress else None,
    )


def _with_seen(threads: QuerySet[Thread], user) -> QuerySet[Thread]:
    seen = ThreadSeen.objects.filter(thread=OuterRef("pk"), user=user).values("seen_at")[:1]
    return threads.annotate(my_seen_at=Subquery(seen)).annotate(
        unread=ExpressionWrapper(
            Q(last_staff_message_at__isnull=False)
            & (Q(my_seen_at__isnull=True) | Q(last_staff_message_at__gt=F("my_seen_at"))),
            output_field=BooleanField(),
        )
    )


def student_threads(*, user) -> QuerySet[Thread]:
    """``user``'s own threads, the latest conversation first, each with ``unread`` (the
    school wrote since they last looked) and ``my_seen_at``."""
    threads = Thread.objects.filter(student=user).select_related("task__topic__course", "course")
    return _with_seen(threads, user).order_by(F("last_message_at").desc(nulls_last=True), "-id")


def student_thread_page(*, user, page=1, per_page: int = THREADS_PER_PAGE) -> Page:
    """A page of ``student_threads``: two queries (the count and the rows)."""
    return Paginator(student_threads(user=user), per_page).get_page(page)


def unread_threads_count(*, user) -> int:
    """How many of ``user``'s threads have an answer they have not seen."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return _with_seen(Thread.objects.filter(student=user), user).filter(unread=True).count()


def seen_at(*, thread: Thread, user) -> datetime | None:
    return (
        ThreadSeen.objects.filter(thread=thread, user=user)
        .values_list("seen_at", flat=True)
        .first()
    )
