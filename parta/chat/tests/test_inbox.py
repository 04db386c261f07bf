"""The inbox's selectors and services: filters and sorting, unread marks per moderator, the
header's count, taking and assigning (who may be given a thread), private notes, saved
replies, closing and reopening. ``make_thread`` (here) builds threads directly, with the
times a test needs; the other inbox tests import it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory, TaskFactory, TopicFactory
from parta.chat import inbox
from parta.chat.inbox import InboxFilters, InboxShow, inbox_filters_parse
from parta.chat.models import (
    ChatMessage,
    SavedReply,
    Thread,
    ThreadKind,
    ThreadNote,
    ThreadSeen,
    ThreadState,
)
from parta.chat.services import message_post, support_thread_open, thread_mark_seen
from parta.common.errors import Conflict, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def make_thread(
    student,
    *,
    asked_at: datetime,
    task=None,
    course=None,
    subject: str = "Вопрос",
    answered_by=None,
    answered_at: datetime | None = None,
    assignee=None,
    closed: bool = False,
    messages: int = 1,
) -> Thread:
    """A thread with ``messages`` questions from ``student`` (the first at ``asked_at``,
    a minute apart) and, with ``answered_by``, a reply after them: rows made directly, in
    the state chat's services would have left them."""
    kind = ThreadKind.TASK if task is not None else ThreadKind.SUPPORT
    if task is not None and course is None:
        course = task.topic.course
    thread = Thread.objects.create(
        kind=kind,
        student=student,
        task=task,
        course=course,
        subject=subject,
        assignee=assignee,
        created_at=asked_at,
    )
    times = [asked_at + timedelta(minutes=n) for n in range(messages)]
    ChatMessage.objects.bulk_create(
        ChatMessage(thread=thread, author=student, text=f"{subject} {n}", created_at=at)
        for n, at in enumerate(times)
    )
    thread.last_student_message_at = thread.last_message_at = times[-1]
    thread.waiting_since = asked_at
    thread.state = ThreadState.AWAITING_MODERATOR
    if answered_by is not None:
        answered_at = answered_at or times[-1] + timedelta(minutes=5)
        ChatMessage.objects.create(
            thread=thread,
            author=answered_by,
            from_staff=True,
            text="Ответ",
            created_at=answered_at,
        )
        # As message_post does: the one who answers has seen the thread.
        ThreadSeen.objects.create(thread=thread, user=answered_by, seen_at=answered_at)
        thread.last_staff_message_at = thread.last_message_at = answered_at
        thread.waiting_since = None
        thread.state = ThreadState.AWAITING_STUDENT
    if closed:
        thread.state = ThreadState.CLOSED
        thread.waiting_since = None
        thread.closed_at = thread.last_message_at
    thread.save()
    return thread


def _ago(minutes: int) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


def _ids(threads) -> list[int]:
    return [t.pk for t in threads]


@pytest.fixture
def other_moderator(db):
    return ModeratorFactory(email="second@example.com", full_name="Пётр Петрович")


@pytest.fixture
def board(student, moderator, other_moderator, task, course):
    """Six threads: three waiting (for 3 h, 2 h and 1 h), one answered, one closed, one
    waiting on another course; assigned to the two moderators and to nobody."""
    other_course = CourseFactory(title="Геометрия")
    other_task = TaskFactory(topic=TopicFactory(course=other_course))
    return {
        "oldest": make_thread(student, asked_at=_ago(180), task=task, assignee=moderator),
        "middle": make_thread(student, asked_at=_ago(120), subject="Оплата"),
        "newest": make_thread(student, asked_at=_ago(60), course=course, assignee=other_moderator),
        "answered": make_thread(
            student,
            asked_at=_ago(300),
            subject="Документы",
            answered_by=moderator,
            answered_at=_ago(10),
            assignee=moderator,
        ),
        "closed": make_thread(
            student, asked_at=_ago(400), subject="Старое", answered_by=moderator, closed=True
        ),
        "geometry": make_thread(student, asked_at=_ago(30), task=other_task),
    }


# --- Filters and sorting -------------------------------------------------------------------


def test_waiting_threads_come_first_by_the_longest_wait_then_the_rest_by_last_message(
    board, moderator
):
    rows = _ids(inbox.inbox_threads(viewer=moderator))
    b = board
    assert rows == _ids(
        [b["oldest"], b["middle"], b["newest"], b["geometry"], b["answered"], b["closed"]]
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (InboxFilters(show=InboxShow.WAITING), ["oldest", "middle", "newest", "geometry"]),
        (InboxFilters(show=InboxShow.MINE), ["oldest", "answered"]),
        (InboxFilters(show=InboxShow.UNASSIGNED), ["middle", "geometry"]),
        (InboxFilters(show=InboxShow.CLOSED), ["closed"]),
        (InboxFilters(kind="task"), ["oldest", "geometry"]),
        (InboxFilters(kind="support"), ["middle", "newest", "answered", "closed"]),
        (InboxFilters(show=InboxShow.WAITING, kind="support"), ["middle", "newest"]),
    ],
)
def test_filters(board, moderator, filters, expected):
    assert _ids(inbox.inbox_threads(viewer=moderator, filters=filters)) == _ids(
        [board[name] for name in expected]
    )


def test_the_course_filter(board, moderator, course):
    rows = inbox.inbox_threads(viewer=moderator, filters=InboxFilters(course_id=course.pk))
    assert _ids(rows) == _ids([board["oldest"], board["newest"]])
    geometry = board["geometry"].course_id
    waiting_geometry = InboxFilters(show=InboxShow.WAITING, course_id=geometry)
    assert _ids(inbox.inbox_threads(viewer=moderator, filters=waiting_geometry)) == [
        board["geometry"].pk
    ]


def test_mine_is_the_viewers_own(board, other_moderator):
    mine = inbox.inbox_threads(viewer=other_moderator, filters=InboxFilters(show="mine"))
    assert _ids(mine) == [board["newest"].pk]


def test_filters_are_parsed_from_query_parameters_and_bad_ones_named_at_once():
    assert inbox_filters_parse() == InboxFilters()
    assert inbox_filters_parse(show="", kind="", course="") == InboxFilters()
    assert inbox_filters_parse(show="waiting", kind="task", course="7") == InboxFilters(
        show="waiting", kind="task", course_id=7
    )
    with pytest.raises(ValidationFailed) as caught:
        inbox_filters_parse(show="everything", kind="bug", course=str(2**63))
    assert set(caught.value.errors) == {"show", "kind", "course"}
    assert "waiting" in caught.value.errors["show"][0]
    for bad in ("-1", "0", "1.5", "x"):
        with pytest.raises(ValidationFailed):
            inbox_filters_parse(course=bad)


def test_the_query_string_leaves_defaults_out():
    assert InboxFilters().query() == ""
    assert InboxFilters(show="mine").query(page=2) == "show=mine&page=2"
    assert InboxFilters(kind="task", course_id=3).query(show="all") == "kind=task&course=3"


# --- Unread marks and the header's count -----------------------------------------------------


def test_unread_marks_are_per_moderator_and_follow_the_students_messages(
    student, moderator, other_moderator, settings
):
    settings.PARTA_CHAT_MESSAGES_PER_MINUTE = 100
    thread = support_thread_open(student=student, text="Где справка?")

    def unread(user) -> bool:
        return inbox.inbox_threads(viewer=user).get(pk=thread.pk).unread

    assert unread(moderator)
    assert unread(other_moderator)
    thread_mark_seen(thread=thread, user=moderator)
    assert not unread(moderator)
    assert unread(other_moderator)

    # The moderator answers: their own reply leaves it read for them.
    message_post(thread=thread, author=other_moderator, text="В профиле.")
    assert not unread(other_moderator)
    assert not unread(moderator)  # nothing new from the student
    later = timezone.now() + timedelta(seconds=1)
    ChatMessage.objects.create(thread=thread, author=student, text="Спасибо", created_at=later)
    Thread.objects.filter(pk=thread.pk).update(last_student_message_at=later)
    assert unread(moderator)
    assert unread(other_moderator)


def test_the_header_count_is_threads_awaiting_a_reply_that_are_nobodys_or_mine(
    board, moderator, other_moderator, student
):
    # Waiting: oldest (moderator's), middle (nobody's), newest (other's), geometry (nobody's).
    assert inbox.inbox_count(user=moderator) == 3
    assert inbox.inbox_count(user=other_moderator) == 3
    assert inbox.inbox_count(user=student) == 0


def test_the_header_count_costs_one_query_and_none_for_a_student(
    board, moderator, student, django_assert_num_queries
):
    with django_assert_num_queries(1):
        inbox.inbox_count(user=moderator)
    with django_assert_num_queries(0):
        assert inbox.inbox_count(user=student) == 0


# --- Taking and assigning ---------------------------------------------------------------------


def test_a_moderator_takes_a_free_thread_and_taking_it_again_changes_nothing(board, moderator):
    thread = board["middle"]
    assert inbox.thread_take(thread=thread, moderator=moderator).assignee == moderator
    assert inbox.thread_take(thread=thread, moderator=moderator).assignee == moderator
    thread.refresh_from_db()
    assert thread.assignee == moderator


def test_a_thread_someone_else_took_cannot_be_taken(board, moderator, other_moderator):
    with pytest.raises(Conflict) as caught:
        inbox.thread_take(thread=board["newest"], moderator=moderator)
    assert caught.value.message == "Пётр Петрович has already taken this thread."
    assert caught.value.extra == {"assignee": other_moderator.pk}
    board["newest"].refresh_from_db()
    assert board["newest"].assignee == other_moderator


def test_assigning_hands_a_thread_over_or_to_nobody(board, moderator, other_moderator, staff):
    thread = board["oldest"]
    inbox.thread_assign(thread=thread, assignee=other_moderator, by=moderator)
    thread.refresh_from_db()
    assert thread.assignee == other_moderator
    inbox.thread_assign(thread=thread, assignee=staff, by=moderator)
    thread.refresh_from_db()
    assert thread.assignee == staff
    inbox.thread_assign(thread=thread, assignee=None, by=staff)
    thread.refresh_from_db()
    assert thread.assignee is None


def test_threads_are_assigned_only_to_active_moderators_and_staff(board, moderator, student):
    thread = board["middle"]
    gone = ModeratorFactory(full_name="Ушедший Учитель", is_active=False)
    for person, name in ((student, student.full_name), (gone, "Ушедший Учитель")):
        with pytest.raises(ValidationFailed) as caught:
            inbox.thread_assign(thread=thread, assignee=person, by=moderator)
        assert caught.value.errors["assignee"] == [
            "A thread can be assigned only to an active moderator or staff member; "
            f"{name} is not one."
        ]
    thread.refresh_from_db()
    assert thread.assignee is None


def test_students_cannot_take_assign_close_or_note(board, student, moderator):
    thread = board["middle"]
    actions = [
        lambda: inbox.thread_take(thread=thread, moderator=student),
        lambda: inbox.thread_assign(thread=thread, assignee=moderator, by=student),
        lambda: inbox.thread_close(thread=thread, by=student),
        lambda: inbox.thread_reopen(thread=board["closed"], by=student),
        lambda: inbox.thread_note_add(thread=thread, author=student, text="x"),
        lambda: inbox.saved_reply_create(author=student, title="t", text="x"),
    ]
    for action in actions:
        with pytest.raises(PermissionDenied) as caught:
            action()
        assert caught.value.message == "Only moderators and staff work in the inbox."
    thread.refresh_from_db()
    assert (thread.assignee, thread.state) == (None, ThreadState.AWAITING_MODERATOR)
    assert not ThreadNote.objects.exists()
    assert not SavedReply.objects.exists()


def test_school_members_are_active_moderators_and_staff(moderator, other_moderator, staff):
    UserFactory()
    ModeratorFactory(is_active=False)
    assert set(inbox.school_members()) == {moderator, other_moderator, staff}


# --- Notes -----------------------------------------------------------------------------------


def test_notes_are_kept_in_order_with_their_authors(board, moderator, other_moderator):
    thread = board["oldest"]
    inbox.thread_note_add(thread=thread, author=moderator, text="Звонила маме\r\nвчера")
    inbox.thread_note_add(thread=thread, author=other_moderator, text="  Второй раз  ")
    notes = inbox.thread_notes(thread=thread)
    assert [(n.author, n.text) for n in notes] == [
        (moderator, "Звонила маме\nвчера"),
        (other_moderator, "  Второй раз  "),
    ]
    assert inbox.thread_notes(thread=board["middle"]) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write the note."),
        ("  \n ", "Write the note."),
        ("x" * 4001, "Too long: 4001 characters, the limit is 4000."),
        (None, "This must be text."),
    ],
)
def test_a_bad_note_is_refused(board, moderator, text, message):
    with pytest.raises(ValidationFailed) as caught:
        inbox.thread_note_add(thread=board["oldest"], author=moderator, text=text)
    assert caught.value.errors == {"text": [message]}
    assert not ThreadNote.objects.exists()


# --- Saved replies ----------------------------------------------------------------------------


def test_saved_replies_are_created_in_order_edited_and_deleted(moderator, other_moderator):
    first = inbox.saved_reply_create(author=moderator, title="Привет", text="Здравствуйте!")
    second = inbox.saved_reply_create(author=moderator, title="Срок", text="Ответим за день.")
    top = inbox.saved_reply_create(
        author=other_moderator, title="Алло", text="Первым делом", position=0
    )
    assert (first.position, second.position) == (0, 1)
    assert inbox.saved_reply_list() == [top, first, second]  # position, then title

    inbox.saved_reply_update(
        reply=second, by=other_moderator, title=" Сроки ", text="Ответим за два дня."
    )
    second.refresh_from_db()
    assert (second.title, second.text, second.position) == ("Сроки", "Ответим за два дня.", 1)
    inbox.saved_reply_update(reply=second, by=moderator, title="Сроки", text="x", position=9)
    second.refresh_from_db()
    assert second.position == 9

    inbox.saved_reply_delete(reply=first, by=other_moderator)
    assert inbox.saved_reply_list() == [top, second]


def test_a_bad_saved_reply_names_every_problem(moderator):
    with pytest.raises(ValidationFailed) as caught:
        inbox.saved_reply_create(author=moderator, title=" ", text="", position=-1)
    assert caught.value.errors == {
        "title": ["Give the reply a short title (it is the button's label)."],
        "text": ["Write the reply's text."],
        "position": ["The position must be a whole number from 0 to 1,000,000."],
    }
    with pytest.raises(ValidationFailed) as caught:
        inbox.saved_reply_create(author=moderator, title="t" * 121, text="y" * 4001)
    assert set(caught.value.errors) == {"title", "text"}
    assert not SavedReply.objects.exists()


# --- Close and reopen -------------------------------------------------------------------------


def test_closing_stops_the_wait_and_reopening_restores_it_from_the_first_unanswered_message(
    student, moderator
):
    thread = make_thread(student, asked_at=_ago(90), answered_by=moderator, answered_at=_ago(60))
    # Two more questions after the reply: the wait starts at the first of them.
    first = _ago(30)
    for at in (first, _ago(20)):
        ChatMessage.objects.create(thread=thread, author=student, text="Ещё", created_at=at)
    Thread.objects.filter(pk=thread.pk).update(
        state=ThreadState.AWAITING_MODERATOR,
        waiting_since=first,
        last_student_message_at=_ago(20),
        last_message_at=_ago(20),
    )
    thread.refresh_from_db()

    closed = inbox.thread_close(thread=thread, by=moderator)
    assert closed is thread
    thread.refresh_from_db()
    assert thread.state == ThreadState.CLOSED
    assert thread.waiting_since is None
    assert thread.closed_at is not None
    assert inbox.inbox_count(user=moderator) == 0

    inbox.thread_reopen(thread=thread, by=moderator)
    thread.refresh_from_db()
    assert thread.state == ThreadState.AWAITING_MODERATOR
    assert abs(thread.waiting_since - first) < timedelta(seconds=1)
    assert thread.closed_at is None


def test_a_thread_the_school_answered_last_reopens_awaiting_the_student(student, moderator):
    thread = make_thread(student, asked_at=_ago(90), answered_by=moderator, closed=True)
    inbox.thread_reopen(thread=thread, by=moderator)
    thread.refresh_from_db()
    assert (thread.state, thread.waiting_since) == (ThreadState.AWAITING_STUDENT, None)


def test_closing_a_closed_thread_or_reopening_an_open_one_is_refused(student, moderator):
    thread = make_thread(student, asked_at=_ago(5))
    with pytest.raises(Conflict, match=r"This thread is open already\."):
        inbox.thread_reopen(thread=thread, by=moderator)
    inbox.thread_close(thread=thread, by=moderator)
    with pytest.raises(Conflict, match=r"This thread is already closed\."):
        inbox.thread_close(thread=thread, by=moderator)


def test_a_students_message_reopens_a_closed_thread_as_waiting(student, moderator):
    thread = support_thread_open(student=student, text="Вопрос")
    inbox.thread_close(thread=thread, by=moderator)
    message_post(thread=thread, author=student, text="Ещё вопрос")
    thread.refresh_from_db()
    assert thread.state == ThreadState.AWAITING_MODERATOR
    assert thread.waiting_since is not None
