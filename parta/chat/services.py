"""Writes for chat: opening threads, posting messages, last-seen marks, and the line a task
thread gets when its student solves the task.

Rules every message follows (``message_post``):
- The author is the thread's student, or any moderator or staff member. Text is stored as
  typed (line ends made ``\\n``), at most 4,000 characters; text or a file is needed. A file
  is an image (JPEG, PNG, WebP) or a PDF up to ``PARTA_MAX_ATTACHMENT_MB``, checked by its
  first bytes (a renamed program is refused), stored under a random name and only ever
  served by short-lived signed links.
- State follows who wrote last: the student → awaiting a moderator (``waiting_since``
  starts, if it was not running); the school → awaiting the student. A post to a closed
  thread reopens it.
- At most ``PARTA_CHAT_MESSAGES_PER_MINUTE`` messages a minute per person, counted over
  the messages stored: more are refused (429, "wait N seconds") and nothing is stored.
- ``client_key``: a resent form or a retried request with the same key returns the message
  stored the first time (``replayed`` is set on it) and stores nothing.
- A thread whose task was deleted keeps its history and stays open to both sides: the
  conversation goes on without the task (its attempts went with it).
- A student keeps writing in a task thread only while they have access to its course
  (support is open to every student).

Each author's posts are serialised by a lock on their user row (rate limit and keys are
then exact) and each thread's by a lock on the thread row (state and message order).
Locks are always taken in that order: author, then thread.
"""

from __future__ import annotations

import posixpath
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parta.access.selectors import access_check
from parta.accounts.signin_limits import wait_phrase
from parta.catalog.models import Course, Task
from parta.catalog.uploads import check_upload, validate_attachment
from parta.catalog.workspace import can_use_workspace
from parta.chat import notices, realtime
from parta.chat.models import (
    SUBJECT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    ChatMessage,
    MessageSource,
    Thread,
    ThreadKind,
    ThreadSeen,
    ThreadState,
)
from parta.chat.selectors import task_ask_status
from parta.common.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from parta.notifications.channels.base import Channel
from parta.notifications.models import Message

RATE_WINDOW = timedelta(minutes=1)
# Parta's own lines in a thread are stored as a code and shown in the viewer's language.
SYSTEM_TASK_SOLVED = "task_solved"


class RateLimited(ApplicationError):
    status_code = 429
    code = "rate_limited"


# --- Checks --------------------------------------------------------------------------------


def _clean_text(text, *, has_attachment: bool) -> str:
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ValidationFailed({"text": [_("The message must be text.")]})
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationFailed(
            {
                "text": [
                    _(
                        "The message is too long: %(length)d characters, the limit is "
                        "%(limit)d. Shorten it or split it in two."
                    )
                    % {"length": len(text), "limit": TEXT_MAX_LENGTH}
                ]
            }
        )
    if not text.strip():
        if not has_attachment:
            raise ValidationFailed({"text": [_("Write a message or attach a file.")]})
        return ""
    return text


def _check_attachment(attachment) -> None:
    if attachment is not None:
        check_upload(validate_attachment, attachment, field="attachment")


def _check_rate(author, now: datetime) -> None:
    limit = max(1, int(settings.PARTA_CHAT_MESSAGES_PER_MINUTE))
    recent = list(
        ChatMessage.objects.filter(author=author, created_at__gt=now - RATE_WINDOW)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return
    wait = max(1, int((recent[-1] + RATE_WINDOW - now).total_seconds() + 0.999))
    raise RateLimited(
        ngettext(
            "Too many messages: at most %(limit)d a minute.",
            "Too many messages: at most %(limit)d a minute.",
            limit,
        )
        % {"limit": limit}
        + " "
        + wait_phrase(wait),
        extra={"retry_after": wait},
    )


def _lock_author(author) -> None:
    get_user_model().objects.select_for_update().filter(pk=author.pk).values_list("pk").first()


def _is_school(user) -> bool:
    return bool(user.is_active and can_use_workspace(user))


def _subject(text: str, fallback: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return Truncator(first or fallback).chars(SUBJECT_MAX_LENGTH)


# --- Posting --------------------------------------------------------------------------------


def _store_attachment(message: ChatMessage, attachment: File) -> None:
    """Under a random name (the link never shows the student's file name); the name they
    gave is kept for the page."""
    original = posixpath.basename((attachment.name or "").replace("\\", "/"))
    extension = posixpath.splitext(original)[1].lower()
    message.attachment_name = Truncator(original).chars(200) or extension.lstrip(".")
    message.attachment.save(f"{secrets.token_urlsafe(16)}{extension}", attachment, save=False)


def _replay(thread: Thread, author, client_key: str) -> ChatMessage | None:
    earlier = (
        ChatMessage.objects.filter(thread=thread, author=author, client_key=client_key)
        .select_related("author", "thread")
        .first()
    )
    if earlier is not None:
        earlier.replayed = True
    return earlier


@transaction.atomic
def message_post(
    *,
    thread: Thread,
    author,
    text: str,
    attachment: File | None = None,
    source: str = MessageSource.SITE,
    client_key: str | None = None,
) -> ChatMessage:
    """Post ``text`` (and an optional file) to ``thread`` as ``author`` (see the module's
    rules); the message, with ``replayed`` True when ``client_key`` had been used."""
    school = _is_school(author)
    if not school and (author.pk != thread.student_id or not author.is_active):
        raise PermissionDenied(_("This is not your thread."))
    if source not in MessageSource.values or source == MessageSource.SYSTEM:
        raise ValueError(f"unknown message source {source!r}")
    _lock_author(author)
    thread = (
        Thread.objects.select_for_update(of=("self",))
        .select_related("student", "assignee", "course")
        .get(pk=thread.pk)
    )
    if client_key is not None:
        earlier = _replay(thread, author, client_key)
        if earlier is not None:
            return earlier
    text = _clean_text(text, has_attachment=attachment is not None)
    _check_attachment(attachment)
    if (
        not school
        and thread.kind == ThreadKind.TASK
        and thread.task_id is not None
        and thread.course_id is not None
        and not access_check(user=author, course_id=thread.course_id).allowed
    ):
        raise PermissionDenied(
            _(
                "Your access to this course has ended, so this thread is read-only for you. "
                "Write to support if you have a question."
            )
        )
    now = timezone.now()
    _check_rate(author, now)

    message = ChatMessage(
        thread=thread,
        author=author,
        from_staff=school,
        text=text,
        source=source,
        client_key=client_key,
        created_at=now,
    )
    if attachment is not None:
        _store_attachment(message, attachment)
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # The same key at the same moment from another request of this author.
        earlier = _replay(thread, author, client_key) if client_key is not None else None
        if earlier is None:
            raise
        return earlier
    message.replayed = False

    newly_waiting = _thread_after(thread, message, school=school)
    _seen(thread=thread, user=author, at=now)
    if school:
        notices.reply_notify(thread=thread, message=message)
    else:
        notices.question_notify(thread=thread, message=message, newly_waiting=newly_waiting)
    transaction.on_commit(lambda: realtime.message_posted(message))
    return message


def _thread_after(thread: Thread, message: ChatMessage, *, school: bool) -> bool:
    """Move the thread's state and times for a new message; whether the thread has just
    started waiting for the school."""
    now = message.created_at
    # A thread just made has the waiting state but no clock yet: its first message counts
    # as the start of the wait.
    was_waiting = (
        thread.state == ThreadState.AWAITING_MODERATOR and thread.waiting_since is not None
    )
    if school:
        thread.state = ThreadState.AWAITING_STUDENT
        thread.waiting_since = None
        thread.last_staff_message_at = now
    else:
        thread.state = ThreadState.AWAITING_MODERATOR
        if not was_waiting:
            thread.waiting_since = now
        thread.last_student_message_at = now
    thread.last_message_at = now
    thread.closed_at = None
    thread.save(
        update_fields=[
            "state",
            "waiting_since",
            "last_message_at",
            "last_student_message_at",
            "last_staff_message_at",
            "closed_at",
        ]
    )
    return not school and not was_waiting


# --- Opening --------------------------------------------------------------------------------


@transaction.atomic
def task_thread_open(
    *,
    student,
    task: Task,
    text: str,
    attachment: File | None = None,
    client_key: str | None = None,
) -> Thread:
    """Ask about ``task``: the student's one thread about it (made now, or the one they
    had, reopened), with ``text`` as their new message. Refused (403) before
    ``ask_after(task)`` wrong answers, saying how many are left (``answers_left`` in the
    error), and for a student without access to the task's course. ``opened`` is set on
    the thread: True when it was made by this call."""
    _lock_author(student)
    task = Task.objects.select_related("topic").filter(pk=task.pk).first()
    if task is None:
        raise NotFound(_("This task no longer exists."))
    status = task_ask_status(user=student, task=task)
    if not status.allowed:
        raise PermissionDenied(status.reason, extra={"answers_left": status.answers_left})
    thread, opened = status.thread, False
    if thread is None:
        try:
            with transaction.atomic():
                thread = Thread.objects.create(
                    kind=ThreadKind.TASK,
                    student=student,
                    task=task,
                    course_id=task.topic.course_id,
                    subject=Truncator(task.title).chars(SUBJECT_MAX_LENGTH),
                )
            opened = True
        except IntegrityError:
            # Opened a moment ago by another request of this student.
            thread = Thread.objects.get(kind=ThreadKind.TASK, student=student, task=task)
    message = message_post(
        thread=thread, author=student, text=text, attachment=attachment, client_key=client_key
    )
    thread.refresh_from_db()
    thread.opened = opened and not message.replayed
    return thread


@transaction.atomic
def support_thread_open(
    *,
    student,
    text: str,
    course: Course | None = None,
    attachment: File | None = None,
    client_key: str | None = None,
) -> Thread:
    """A new support thread (optionally about ``course``) with the student's first
    message. The same ``client_key`` again returns the thread it opened. ``opened`` is set
    on the thread: True when it was made by this call."""
    if _is_school(student):
        raise PermissionDenied(
            _("Moderators answer questions in the inbox; they do not ask them.")
        )
    if not student.is_active:
        raise PermissionDenied(_("This account is not active."))
    _lock_author(student)
    if client_key is not None:
        earlier = (
            ChatMessage.objects.filter(
                author=student,
                client_key=client_key,
                thread__student=student,
                thread__kind=ThreadKind.SUPPORT,
            )
            .select_related("thread")
            .first()
        )
        if earlier is not None:
            earlier.thread.opened = False
            return earlier.thread
    cleaned = _clean_text(text, has_attachment=attachment is not None)
    fallback = posixpath.basename(getattr(attachment, "name", "") or "") or _("Question")
    thread = Thread.objects.create(
        kind=ThreadKind.SUPPORT,
        student=student,
        course=course,
        subject=_subject(cleaned, fallback),
    )
    message_post(
        thread=thread, author=student, text=text, attachment=attachment, client_key=client_key
    )
    thread.refresh_from_db()
    thread.opened = True
    return thread


# --- Seen marks -----------------------------------------------------------------------------


def _seen(*, thread: Thread, user, at: datetime) -> None:
    updated = ThreadSeen.objects.filter(thread=thread, user=user, seen_at__lt=at).update(
        seen_at=at
    )
    if not updated:
        # None yet (or a later one already: then the insert is skipped as a conflict).
        ThreadSeen.objects.bulk_create(
            [ThreadSeen(thread=thread, user=user, seen_at=at)], ignore_conflicts=True
        )


@transaction.atomic
def thread_mark_seen(*, thread: Thread, user, at: datetime | None = None) -> None:
    """``user`` has seen ``thread`` up to ``at`` (now): what came before is read for them.
    A mark never moves back."""
    _seen(thread=thread, user=user, at=at or timezone.now())


# --- A task solved after asking -------------------------------------------------------------


def task_solved_in_thread(*, user, task, at: datetime) -> None:
    """Learning's hook (``parta.learning.hooks.task_solved_hooks``), in the answer's
    transaction: the student's thread about ``task``, if any, says that it is solved
    (a line from Parta, once) and keeps when."""
    thread = (
        Thread.objects.select_for_update()
        .filter(kind=ThreadKind.TASK, student=user, task=task, solved_at__isnull=True)
        .first()
    )
    if thread is None:
        return
    message = ChatMessage.objects.create(
        thread=thread,
        author=None,
        from_staff=False,
        text=SYSTEM_TASK_SOLVED,
        source=MessageSource.SYSTEM,
        created_at=at,
    )
    thread.solved_at = at
    thread.last_message_at = at
    thread.save(update_fields=["solved_at", "last_message_at"])
    transaction.on_commit(lambda: realtime.message_posted(message))


# --- Answering from Telegram ----------------------------------------------------------------


@transaction.atomic
def telegram_answer_post(
    *, user, chat_id: int, reply_to_message_id: int, message_id: int, text: str
) -> ChatMessage:
    """A Telegram reply from ``user`` (the account linked to ``chat_id``) to the bot's
    message ``reply_to_message_id``: when that message was the alert of a question sent to
    this very account, ``text`` is posted into the question's thread as ``user``'s answer
    (source telegram). The Telegram message's own id is its client key, so an update that
    arrives twice posts once."""
    if user is None:
        raise PermissionDenied(
            _(
                "This chat is not linked to a Parta account. Moderators answer questions "
                "here after linking Telegram on their profile."
            )
        )
    if not _is_school(user):
        raise PermissionDenied(
            _(
                "Only moderators can answer questions from Telegram. To write to the school, "
                "open your thread on the site."
            )
        )
    alert = (
        Message.objects.filter(
            user=user,
            kind=notices.CHAT_QUESTION.name,
            channel=Channel.TELEGRAM,
            peer_id=str(reply_to_message_id),
        )
        .order_by("-id")
        .first()
    )
    thread_id = (alert.context or {}).get("thread_id") if alert is not None else None
    thread = Thread.objects.filter(pk=thread_id).first() if isinstance(thread_id, int) else None
    if thread is None:
        raise NotFound(
            _(
                "This is not a question's alert. To answer a student, reply to the bot's "
                "message about their question."
            )
        )
    return message_post(
        thread=thread,
        author=user,
        text=text,
        source=MessageSource.TELEGRAM,
        client_key=f"telegram:{chat_id}:{message_id}",
    )
