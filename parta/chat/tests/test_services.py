"""Chat's services: the state machine, when a task's thread may be opened, who may see and
write what, hostile text and files, the rate limit, replays, notifications, and a solved
task's line. Concurrency on PostgreSQL at the end."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.utils import timezone

from parta.access.models import AccessGrant
from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import TaskFactory, TestFactory
from parta.chat import notices, selectors
from parta.chat.models import ChatMessage, MessageSource, Thread, ThreadSeen, ThreadState
from parta.chat.services import (
    SYSTEM_TASK_SOLVED,
    RateLimited,
    message_post,
    support_thread_open,
    task_thread_open,
    thread_mark_seen,
)
from parta.chat.tests.conftest import answer_wrongly
from parta.common.errors import PermissionDenied, ValidationFailed
from parta.common.testing.concurrency import run_together
from parta.learning.services import task_answer_submit
from parta.notifications.models import Message
from parta.notifications.preferences import preferences_for

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def _open(student, task, text="I do not get it", **kwargs) -> Thread:
    return task_thread_open(student=student, task=task, text=text, **kwargs)


# --- State follows who wrote last ---------------------------------------------------------


def test_a_question_opens_a_thread_that_waits_for_a_moderator(asker, task, course):
    thread = _open(asker, task)
    assert thread.opened is True
    message = thread.messages.get()
    assert (thread.kind, thread.task, thread.course, thread.subject) == (
        "task",
        task,
        course,
        "Шесть на семь",
    )
    assert thread.state == ThreadState.AWAITING_MODERATOR
    assert thread.waiting_since == message.created_at == thread.last_student_message_at
    assert thread.last_staff_message_at is None
    assert (message.author, message.from_staff, message.source) == (asker, False, "site")


def test_a_reply_makes_it_wait_for_the_student_and_the_student_restarts_the_clock(
    asker, task, moderator
):
    thread = _open(asker, task)
    first_wait = thread.waiting_since
    message_post(thread=thread, author=asker, text="Also: is 42 in lowest terms?")
    thread.refresh_from_db()
    # Still the first unanswered message's time: the inbox sorts by the longest wait.
    assert thread.waiting_since == first_wait

    reply = message_post(thread=thread, author=moderator, text="Look at step two.")
    thread.refresh_from_db()
    assert reply.from_staff is True
    assert thread.state == ThreadState.AWAITING_STUDENT
    assert thread.waiting_since is None
    assert thread.last_staff_message_at == reply.created_at

    again = message_post(thread=thread, author=asker, text="Still stuck")
    thread.refresh_from_db()
    assert thread.state == ThreadState.AWAITING_MODERATOR
    assert thread.waiting_since == again.created_at


@pytest.mark.parametrize("who", ["student", "moderator"])
def test_posting_to_a_closed_thread_reopens_it(asker, task, moderator, who):
    thread = _open(asker, task)
    Thread.objects.filter(pk=thread.pk).update(
        state=ThreadState.CLOSED, closed_at=timezone.now(), waiting_since=None
    )
    author = asker if who == "student" else moderator
    message_post(thread=Thread.objects.get(pk=thread.pk), author=author, text="One more thing")
    thread.refresh_from_db()
    assert thread.closed_at is None
    expected = ThreadState.AWAITING_MODERATOR if who == "student" else ThreadState.AWAITING_STUDENT
    assert thread.state == expected


def test_asking_again_about_a_task_reuses_its_one_thread_and_reopens_it(asker, task):
    thread = _open(asker, task)
    Thread.objects.filter(pk=thread.pk).update(state=ThreadState.CLOSED)
    again = _open(asker, task, text="Back again")
    assert again.pk == thread.pk
    assert again.opened is False
    assert again.state == ThreadState.AWAITING_MODERATOR
    assert Thread.objects.count() == 1
    assert again.messages.count() == 2


# --- N wrong answers ----------------------------------------------------------------------


def test_before_three_wrong_answers_the_thread_cannot_be_opened(student, task):
    answer_wrongly(student, task, times=2)
    task_answer_submit(user=student, task=task, data={"answer": "42"})  # right: not counted
    with pytest.raises(PermissionDenied) as refused:
        _open(student, task)
    assert refused.value.status_code == 403
    assert refused.value.extra == {"answers_left": 1}
    assert "after 1 more wrong answer" in refused.value.message
    assert not Thread.objects.exists()
    assert not ChatMessage.objects.exists()

    answer_wrongly(student, task, times=1)
    assert _open(student, task).opened


def test_a_task_may_set_its_own_number_and_the_school_its_default(student, course, settings):
    from parta.catalog.tests.factories import TopicFactory

    topic = TopicFactory(course=course)
    at_once = TaskFactory(topic=topic, chat_ask_after=0)
    after_one = TaskFactory(topic=topic, chat_ask_after=1)
    default = TaskFactory(topic=topic)
    assert _open(student, at_once).opened
    with pytest.raises(PermissionDenied):
        _open(student, after_one)
    answer_wrongly(student, after_one, times=1)
    assert _open(student, after_one).opened

    settings.PARTA_CHAT_ASK_AFTER = 5
    answer_wrongly(student, default, times=4)
    status = selectors.task_ask_status(user=student, task=default)
    assert (status.allowed, status.answers_left, status.threshold) == (False, 1, 5)


# --- Who may do what ----------------------------------------------------------------------


def test_a_student_without_access_to_the_course_cannot_open_its_task(task):
    outsider = UserFactory(language="en")
    with pytest.raises(PermissionDenied, match="do not have access"):
        _open(outsider, TaskFactory(topic=task.topic, chat_ask_after=0))
    assert not Thread.objects.exists()


def test_a_tests_task_and_the_school_cannot_open_threads(asker, task, moderator):
    in_test = TaskFactory(test=TestFactory(topic=task.topic), chat_ask_after=0)
    with pytest.raises(PermissionDenied, match="part of a test"):
        _open(asker, in_test)
    with pytest.raises(PermissionDenied, match="inbox"):
        _open(moderator, task)
    with pytest.raises(PermissionDenied, match="inbox"):
        support_thread_open(student=moderator, text="Hi")
    assert not Thread.objects.exists()


def test_a_student_sees_and_writes_only_in_their_own_threads(asker, task, moderator, staff):
    mine = _open(asker, task)
    other = UserFactory()
    theirs = support_thread_open(student=other, text="Payment question")

    assert selectors.thread_for_viewer(user=asker, thread_id=mine.pk) == mine
    assert selectors.thread_for_viewer(user=asker, thread_id=theirs.pk) is None
    assert selectors.thread_for_viewer(user=moderator, thread_id=theirs.pk) == theirs
    assert selectors.thread_for_viewer(user=staff, thread_id=mine.pk) == mine
    assert list(selectors.student_threads(user=asker)) == [mine]

    with pytest.raises(PermissionDenied):
        message_post(thread=theirs, author=asker, text="Let me in")
    assert theirs.messages.count() == 1
    # Any moderator or staff member may answer any thread.
    message_post(thread=theirs, author=staff, text="Answer")
    assert theirs.messages.count() == 2


def test_when_access_ends_the_task_thread_is_read_only_but_support_stays_open(asker, task):
    thread = _open(asker, task)
    AccessGrant.objects.filter(user=asker).update(is_active=False)
    from django.core.cache import cache

    cache.clear()
    from parta.access.cache import mirror

    mirror.clear()
    with pytest.raises(PermissionDenied, match="access to this course has ended"):
        message_post(thread=thread, author=asker, text="Hello?")
    assert thread.messages.count() == 1
    assert support_thread_open(student=asker, text="Why did my access end?").opened


def test_a_thread_on_a_deleted_task_keeps_its_history_and_both_sides_may_write(
    asker, task, moderator
):
    thread = _open(asker, task)
    task.delete()
    thread.refresh_from_db()
    assert (thread.task, thread.kind) == (None, "task")
    assert thread.messages.count() == 1
    assert selectors.task_attempts(thread=thread) is None
    message_post(thread=thread, author=moderator, text="The task was replaced by a new one.")
    message_post(thread=thread, author=asker, text="Thanks!")
    assert thread.messages.count() == 3


# --- Hostile text and files ---------------------------------------------------------------


def test_text_is_stored_as_typed_and_shown_escaped_with_links_clickable(asker, task):
    typed = (
        '<script>alert("x")</script> <b>bold</b> see https://example.org/a?b=1&c=2. '
        "and javascript:alert(1) and www.parta.local/help"
    )
    thread = _open(asker, task, text=typed)
    message = thread.messages.get()
    assert message.text == typed
    html = render_to_string("chat/_message.html", {"message": message, "viewer": asker})
    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener noreferrer" '
        'target="_blank">https://example.org/a?b=1&amp;c=2</a>.' in html
    )
    assert 'href="https://www.parta.local/help"' in html
    assert 'href="javascript' not in html
    assert html.startswith(f'<li class="chat-message from-student mine" id="message-{message.pk}"')
    assert f'data-id="{message.pk}"' in html


def test_4000_characters_pass_and_4001_are_refused_with_nothing_stored(asker, task):
    thread = _open(asker, task, text="x" * 4000)
    with pytest.raises(ValidationFailed) as refused:
        message_post(thread=thread, author=asker, text="y" * 4001)
    assert refused.value.errors["text"] == [
        "The message is too long: 4001 characters, the limit is 4000. "
        "Shorten it or split it in two."
    ]
    # Windows line ends count as one character, as the browser counted them.
    message_post(thread=thread, author=asker, text="a\r\n" * 1000 + "b" * 2000)
    assert thread.messages.count() == 2


@pytest.mark.parametrize("text", ["", "   \n\t  ", None])
def test_an_empty_message_without_a_file_is_refused(asker, task, text):
    with pytest.raises(ValidationFailed) as refused:
        _open(asker, task, text=text)
    assert refused.value.errors == {"text": ["Write a message or attach a file."]}
    assert not Thread.objects.exists()


def test_a_real_image_or_pdf_is_attached_under_a_random_name(asker, task):
    thread = _open(asker, task, text="   ", attachment=SimpleUploadedFile("my work.png", PNG))
    message = thread.messages.get()
    assert message.text == ""
    assert message.attachment_name == "my work.png"
    assert message.attachment.name.startswith("chat/")
    assert "my work" not in message.attachment.name
    pdf = message_post(
        thread=thread, author=asker, text="", attachment=SimpleUploadedFile("notes.PDF", PDF)
    )
    assert pdf.attachment.name.endswith(".pdf")
    html = render_to_string("chat/_message.html", {"message": message, "viewer": asker})
    assert "/files/" in html
    assert '<img src="/files/' in html


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("homework.pdf", b"MZ\x90\x00 a Windows program", "content is not pdf"),
        ("photo.png", b"<svg onload=alert(1)>", "content is not png"),
        ("page.html", b"<html>", "cannot be attached"),
        ("drawing.svg", b"<svg/>", "cannot be attached"),
    ],
)
def test_a_disguised_or_unaccepted_file_is_refused(asker, task, name, content, error):
    with pytest.raises(ValidationFailed) as refused:
        _open(asker, task, text="see file", attachment=SimpleUploadedFile(name, content))
    assert error in refused.value.errors["attachment"][0]
    assert not ChatMessage.objects.exists()


def test_a_file_over_the_limit_is_refused(asker, task, settings):
    settings.PARTA_MAX_ATTACHMENT_MB = 1
    big = SimpleUploadedFile("scan.pdf", PDF + b"0" * (1024 * 1024))
    with pytest.raises(ValidationFailed, match="too large"):
        _open(asker, task, attachment=big)


# --- Rate limit and replays ---------------------------------------------------------------


def test_more_than_20_messages_a_minute_are_refused_and_not_stored(asker, task):
    thread = _open(asker, task, text="1")
    for n in range(19):
        message_post(thread=thread, author=asker, text=f"message {n}")
    with pytest.raises(RateLimited) as refused:
        message_post(thread=thread, author=asker, text="one too many")
    assert refused.value.status_code == 429
    assert "at most 20 a minute" in refused.value.message
    assert "Wait" in refused.value.message
    assert 1 <= refused.value.extra["retry_after"] <= 60
    assert thread.messages.count() == 20
    # A minute later the oldest have left the window.
    ChatMessage.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    message_post(thread=thread, author=asker, text="later")
    assert thread.messages.count() == 21


def test_the_same_client_key_stores_a_message_once(asker, task):
    key = str(uuid.uuid4())
    thread = _open(asker, task, client_key=key)
    again = _open(asker, task, client_key=key)
    assert again.pk == thread.pk
    assert again.opened is False
    assert thread.messages.count() == 1

    first = message_post(thread=thread, author=asker, text="Hi", client_key="k-1")
    second = message_post(thread=thread, author=asker, text="Hi", client_key="k-1")
    assert (first.pk, first.replayed, second.replayed) == (second.pk, False, True)
    assert thread.messages.count() == 2


def test_a_resent_support_question_opens_one_thread(student):
    first = support_thread_open(student=student, text="How do I pay?\nDetails", client_key="x")
    again = support_thread_open(student=student, text="How do I pay?\nDetails", client_key="x")
    assert first.pk == again.pk
    assert (first.opened, again.opened) == (True, False)
    assert first.subject == "How do I pay?"
    assert Thread.objects.count() == 1
    assert ChatMessage.objects.count() == 1


# --- A solved task ------------------------------------------------------------------------


def test_solving_the_task_later_adds_one_line_from_parta(asker, task, moderator):
    thread = _open(asker, task)
    task_answer_submit(user=asker, task=task, data={"answer": "42"})
    task_answer_submit(user=asker, task=task, data={"answer": "42"})
    thread.refresh_from_db()
    line = thread.messages.get(source=MessageSource.SYSTEM)
    assert (line.author, line.text) == (None, SYSTEM_TASK_SOLVED)
    assert thread.solved_at == line.created_at
    # State is left alone: the student may still want the explanation.
    assert thread.state == ThreadState.AWAITING_MODERATOR
    for viewer, sentence in [(asker, "You solved the task"), (moderator, "The student solved")]:
        html = render_to_string("chat/_message.html", {"message": line, "viewer": viewer})
        assert sentence in html


# --- Seen marks ---------------------------------------------------------------------------


def test_unread_follows_the_last_seen_mark(asker, task, moderator):
    thread = _open(asker, task)
    assert not selectors.student_threads(user=asker).get().unread
    reply = message_post(thread=thread, author=moderator, text="Answer")
    assert selectors.student_threads(user=asker).get().unread
    assert selectors.unread_threads_count(user=asker) == 1
    thread_mark_seen(thread=thread, user=asker)
    assert not selectors.student_threads(user=asker).get().unread
    # A mark never moves back.
    seen = ThreadSeen.objects.get(thread=thread, user=asker).seen_at
    thread_mark_seen(thread=thread, user=asker, at=reply.created_at - timedelta(hours=1))
    assert ThreadSeen.objects.get(thread=thread, user=asker).seen_at == seen
    # The moderator who wrote has seen it up to their reply.
    assert ThreadSeen.objects.get(thread=thread, user=moderator).seen_at == reply.created_at


# --- Notifications ------------------------------------------------------------------------


def _rows(kind: str, user=None):
    rows = Message.objects.filter(kind=kind).order_by("id")
    if user is not None:
        rows = rows.filter(user=user)
    return [(row.user_id, row.channel) for row in rows]


def test_a_reply_reaches_an_unlinked_student_in_the_bell_and_by_one_email_per_10_minutes(
    asker, task, moderator, monkeypatch
):
    thread = _open(asker, task)
    first = message_post(thread=thread, author=moderator, text="First answer")
    message_post(thread=thread, author=moderator, text="Second answer")
    assert sorted(_rows("chat_reply")) == sorted(
        [(asker.pk, "site"), (asker.pk, "email"), (asker.pk, "site")]
    )
    email = Message.objects.get(kind="chat_reply", channel="email")
    assert email.dedup_key == f"chat:{thread.pk}:email:{notices.email_slot(first.created_at)}"
    assert email.context["path"] == f"/chat/threads/{thread.pk}/"
    assert email.context["subject"] == "Шесть на семь"
    # The next 10-minute slot may email again.
    later_moment = timezone.now() + timedelta(minutes=10)
    monkeypatch.setattr("parta.chat.services.timezone.now", lambda: later_moment)
    later = message_post(thread=thread, author=moderator, text="Third answer")
    assert notices.email_slot(later.created_at) != notices.email_slot(first.created_at)
    assert Message.objects.filter(kind="chat_reply", channel="email").count() == 2


def test_a_reply_reaches_a_linked_student_by_telegram_not_email(asker, task, moderator):
    asker.telegram_chat_id = 5551
    asker.save(update_fields=["telegram_chat_id"])
    thread = _open(asker, task)
    message_post(thread=thread, author=moderator, text="Answer")
    assert sorted(_rows("chat_reply")) == [(asker.pk, "site"), (asker.pk, "telegram")]


def test_a_question_reaches_every_moderator_once_and_telegram_of_the_linked(
    asker, task, moderator, staff
):
    linked = UserFactory(role="moderator", telegram_chat_id=7771)
    thread = _open(asker, task)
    assert sorted(_rows("chat_question")) == sorted(
        [
            (moderator.pk, "site"),
            (staff.pk, "site"),
            (linked.pk, "site"),
            (linked.pk, "telegram"),
        ]
    )
    alert = Message.objects.filter(kind="chat_question").first()
    assert alert.context["thread_id"] == thread.pk
    assert alert.context["student"] == asker.full_name
    # More from the student while it already waits: nobody is told again...
    message_post(thread=thread, author=asker, text="More details")
    assert len(_rows("chat_question")) == 4
    # ...except the assigned moderator, who hears of every message.
    Thread.objects.filter(pk=thread.pk).update(assignee=moderator)
    message_post(thread=Thread.objects.get(pk=thread.pk), author=asker, text="And more")
    assert len(_rows("chat_question")) == 5
    assert _rows("chat_question")[-1] == (moderator.pk, "site")
    # After an answer, a new message is a new question for everyone again.
    Thread.objects.filter(pk=thread.pk).update(assignee=None)
    message_post(thread=Thread.objects.get(pk=thread.pk), author=moderator, text="Answer")
    message_post(thread=Thread.objects.get(pk=thread.pk), author=asker, text="Follow-up")
    assert len(_rows("chat_question")) == 9


def test_students_are_not_offered_the_moderators_kind(student, moderator):
    def kinds(user):
        return {row.kind for row in preferences_for(user=user)}

    assert "chat_reply" in kinds(student)
    assert "chat_question" not in kinds(student)
    assert "chat_question" in kinds(moderator)


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_opens_of_the_same_task_make_one_thread():
    from parta.catalog.tests.factories import TopicFactory

    task = TaskFactory(topic=TopicFactory(), chat_ask_after=0)
    student = UserFactory()
    AccessGrantFactory(user=student, course=task.topic.course)
    results, errors = run_together(
        2, lambda i: _open(student, task, text=f"question {i}"), timeout=30
    )
    assert not errors, errors
    assert Thread.objects.count() == 1
    assert {thread.pk for thread in results} == {Thread.objects.get().pk}
    assert sorted(thread.opened for thread in results) == [False, True]
    assert ChatMessage.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_rate_limit_holds_under_parallel_posts(settings):
    settings.PARTA_CHAT_MESSAGES_PER_MINUTE = 5
    student = UserFactory()
    thread = support_thread_open(student=student, text="first")
    results, errors = run_together(
        10, lambda i: message_post(thread=thread, author=student, text=f"{i}"), timeout=30
    )
    assert len(results) == 4
    assert len(errors) == 6
    assert all(isinstance(e, RateLimited) for e in errors)
    assert ChatMessage.objects.count() == 5
