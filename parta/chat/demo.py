"""Demo threads for `seed_demo`: the demo student's question about a task of the base
course (three wrong answers, then a moderator's reply: it waits for the student), and a
support question still waiting for a moderator. Idempotent: each thread is made once, with
its messages, and nothing is sent (no outbox rows)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from parta.catalog.models import AnswerKind, Task
from parta.chat.models import ChatMessage, Thread, ThreadKind, ThreadSeen, ThreadState
from parta.learning.models import Submission, TaskProgress

SUPPORT_SUBJECT = "Можно ли оплатить курс частями?"


def _wrong_answers(student, task: Task, moments) -> None:
    """Three wrong answers to ``task`` (what made asking possible), unless it has some."""
    if Submission.objects.filter(user=student, task=task).exists():
        return
    for value, moment in zip(("24", "3.6", "360"), moments, strict=True):
        Submission.objects.create(
            user=student,
            task=task,
            course_id=task.topic.course_id,
            answer={"number": value},
            is_correct=False,
            created_at=moment,
        )
    TaskProgress.objects.update_or_create(
        user=student,
        task=task,
        defaults={
            "course_id": task.topic.course_id,
            "attempts": 3,
            "wrong_attempts": 3,
            "last_answer_at": moments[-1],
        },
    )


@transaction.atomic
def seed_chat(*, student, moderator, course) -> list[Thread]:
    now = timezone.now()
    threads = []
    task = (
        Task.objects.filter(topic__course=course, test__isnull=True, kind=AnswerKind.NUMBER)
        .exclude(progress__user=student, progress__solved_at__isnull=False)
        .order_by("topic__position", "position", "id")
        .first()
    )
    existing = Thread.objects.filter(kind=ThreadKind.TASK, student=student).first()
    if existing is not None:
        threads.append(existing)
    elif task is not None:
        asked = now - timedelta(hours=26)
        _wrong_answers(student, task, [asked - timedelta(minutes=m) for m in (40, 25, 10)])
        answered = asked + timedelta(hours=2)
        thread = Thread.objects.create(
            kind=ThreadKind.TASK,
            student=student,
            task=task,
            course=course,
            subject=task.title,
            state=ThreadState.AWAITING_STUDENT,
            assignee=moderator,
            created_at=asked,
            last_message_at=answered,
            last_student_message_at=asked,
            last_staff_message_at=answered,
        )
        ChatMessage.objects.bulk_create(
            [
                ChatMessage(
                    thread=thread,
                    author=student,
                    text="Я считаю 15% как 240 / 15 и получаю 16, но ответ не принимается. "
                    "Где ошибка?",
                    created_at=asked,
                ),
                ChatMessage(
                    thread=thread,
                    author=moderator,
                    from_staff=True,
                    text="15% — это 15 сотых: умножьте 240 на 0,15, а не делите на 15. "
                    "Подробнее в уроке «Проценты без калькулятора»: "
                    "https://example.org/percent-tips",
                    created_at=answered,
                ),
            ]
        )
        ThreadSeen.objects.create(thread=thread, user=moderator, seen_at=answered)
        threads.append(thread)

    support = Thread.objects.filter(
        kind=ThreadKind.SUPPORT, student=student, subject=SUPPORT_SUBJECT
    ).first()
    if support is None:
        asked = now - timedelta(minutes=45)
        support = Thread.objects.create(
            kind=ThreadKind.SUPPORT,
            student=student,
            course=course,
            subject=SUPPORT_SUBJECT,
            state=ThreadState.AWAITING_MODERATOR,
            created_at=asked,
            waiting_since=asked,
            last_message_at=asked,
            last_student_message_at=asked,
        )
        ChatMessage.objects.create(
            thread=support,
            author=student,
            text=f"{SUPPORT_SUBJECT}\nХочу купить «{course.title}», но удобнее платить "
            "раз в месяц.",
            created_at=asked,
        )
        ThreadSeen.objects.create(thread=support, user=student, seen_at=asked)
    threads.append(support)
    return threads
