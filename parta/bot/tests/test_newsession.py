"""/newsession: a moderator plans a live session in the bot, fed as real updates through
getUpdates to the real dispatcher (the fake Bot API records the replies and the buttons);
the session is made by the site's service and its invitations reach the members' chats."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.bot import session_dialogue
from parta.bot.session_dialogue import BadAnswer, parse_minutes, parse_start
from parta.catalog.tests.factories import CourseFactory
from parta.common.time import school_tz
from parta.groups.models import Group, Invitation, LiveSession
from parta.groups.selectors import teacher_choices
from parta.groups.services import membership_place
from parta.groups.sessions import session_fields_errors
from parta.notifications.models import Message
from parta.notifications.tasks import deliver_due

pytestmark = pytest.mark.django_db(transaction=True)

STAFF_CHAT = 880301
STUDENT_CHATS = (880311, 880312, 880313)
OTHER_STAFF_CHAT = 880302


def _buttons(call) -> list[tuple[str, str]]:
    markup = call.reply_markup or {"inline_keyboard": []}
    return [
        (button["text"], button["callback_data"])
        for row in markup["inline_keyboard"]
        for button in row
    ]


def _data(call, label_part: str) -> str:
    matches = [data for text, data in _buttons(call) if label_part in text]
    assert len(matches) == 1, (label_part, _buttons(call))
    return matches[0]


def _alert(peer) -> str:
    return peer.requests("answerCallbackQuery")[-1].params.get("text", "")


def _future(days: int = 3, hour: int = 18, minute: int = 30) -> datetime:
    day = (timezone.now().astimezone(school_tz()) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=school_tz())


@pytest.fixture
def school():
    """A course of two groups (two members and one), a teacher for the first, a moderator
    linked to the staff chat."""
    course = CourseFactory(title="Algebra <1>", max_group_size=2)
    students = [
        UserFactory(telegram_chat_id=chat, language="en", full_name=f"Student {n}")
        for n, chat in enumerate(STUDENT_CHATS)
    ]
    for student in students:
        membership_place(student=student, course_id=course.pk)
    first, second = Group.objects.filter(course=course).order_by("number")[:2]
    teacher = ModeratorFactory(full_name="Teacher Tom")
    Group.objects.filter(pk=first.pk).update(teacher=teacher)
    ModeratorFactory(full_name="Another Anna")
    moderator = ModeratorFactory(telegram_chat_id=STAFF_CHAT, language="en", full_name="Mod")
    return {
        "course": course,
        "students": students,
        "first": first,
        "second": second,
        "teacher": teacher,
        "moderator": moderator,
    }


class Dialogue:
    def __init__(self, run_bot, peer, chat=STAFF_CHAT):
        self.run_bot, self.peer, self.chat = run_bot, peer, chat
        self.last = None

    def say(self, text: str):
        (self.last,) = self.run_bot(lambda: self.peer.push_message(self.chat, text), replies=1)
        return self.last

    def press(self, data: str, *, invitations: int = 0):
        """Press a button; the reply in this chat (``invitations``: the members' messages
        that the outbox sends on commit as well, eager in tests)."""
        sent = self.run_bot(
            lambda: self.peer.push_callback(self.chat, data), replies=1 + invitations
        )
        (self.last,) = [call for call in sent if call.chat_id == self.chat]
        return self.last

    def press_refused(self, data: str) -> str:
        sent = self.run_bot(lambda: self.peer.push_callback(self.chat, data), replies=0)
        assert sent == [], [call.text for call in sent]
        return _alert(self.peer)

    def up_to_when(self, school, *, group=None):
        self.say("/newsession")
        self.press(_data(self.last, "Algebra"))
        self.teachers = self.press(_data(self.last, group or "Group 1"))
        self.press(_data(self.last, "No teacher"))
        return self.last


def test_the_whole_dialogue_creates_one_session_and_invites_the_group(
    run_bot, telegram_peer, school
):
    talk = Dialogue(run_bot, telegram_peer)
    first = talk.say("/newsession")
    assert "Step 1 of 6. Which course?" in first.text
    assert _buttons(first)[-1][0] == "Cancel"

    groups = talk.press(_data(first, "Algebra"))
    assert "Course: Algebra &lt;1&gt;" in groups.text  # titles are escaped for HTML mode
    labels = [text for text, _data_ in _buttons(groups)]
    assert labels[0] == "The whole course · 3 students"
    assert labels[1] == "Group 1 · 2 students · Teacher Tom"
    # The pressed message loses its buttons.
    edits = telegram_peer.requests("editMessageReplyMarkup")
    assert edits

    teachers = talk.press(_data(groups, "Group 1"))
    labels = [text for text, _data_ in _buttons(teachers)]
    assert labels[0] == "⭐ Teacher Tom"  # the group's own teacher first
    assert "Another Anna" in labels
    assert labels[-2:] == ["No teacher", "Cancel"]

    when = talk.press(_data(teachers, "Teacher Tom"))
    assert "12.12 18:30, 12.12.2026 18:30 or 2026-12-12 18:30" in when.text
    assert "Europe/Moscow" in when.text

    start = _future()
    duration = talk.say(f"{start:%d.%m.%Y %H:%M}")
    assert "Step 5 of 6" in duration.text
    link = talk.press(_data(duration, "90 min"))
    assert "Make a Jitsi room" in [text for text, _d in _buttons(link)]

    confirm = talk.say("https://meet.example.com/algebra-1")
    assert "Check the session" in confirm.text
    assert "Teacher: Teacher Tom" in confirm.text
    assert "For: Group 1" in confirm.text
    assert "The invitation goes to 2 students." in confirm.text
    assert not LiveSession.objects.exists()  # nothing before Create

    done = talk.press(_data(confirm, "Create"), invitations=2)
    assert "the invitation goes to 2 students" in done.text
    session = LiveSession.objects.get()
    assert f"/workspace/sessions/{session.pk}/" in done.text or str(session.pk) in done.text
    assert session.course == school["course"]
    assert list(session.groups.all()) == [school["first"]]
    assert session.teacher == school["teacher"]
    assert session.starts_at == start
    assert session.duration_minutes == 90
    assert session.meeting_url == "https://meet.example.com/algebra-1"
    assert session.created_by == school["moderator"]
    members = {m.student_id for m in school["first"].memberships.filter(ended_at=None)}
    assert {i.user_id for i in Invitation.objects.filter(session=session)} == members
    queued = Message.objects.filter(kind="session_invitation")
    assert {m.user_id for m in queued} == members

    # A second press of Create makes nothing more.
    assert talk.press_refused(_data(confirm, "Create")) == "This session has already been created."
    assert LiveSession.objects.count() == 1
    assert Message.objects.filter(kind="session_invitation").count() == queued.count()

    # The invitations went out as from the site (on commit): Accept / Decline in the
    # members' chats, once.
    deliver_due()
    for student in school["students"]:
        got = telegram_peer.sent(student.telegram_chat_id)
        if student.pk in members:
            (invitation,) = got
            assert _buttons(invitation)[0][1].startswith("inv:accepted:")
        else:
            assert got == []


def test_make_a_jitsi_room_and_the_whole_course(run_bot, telegram_peer, school, settings):
    settings.PARTA_JITSI_BASE_URL = "https://jitsi.example.org/"
    talk = Dialogue(run_bot, telegram_peer)
    talk.up_to_when(school, group="The whole course")
    # For the whole course, the teachers of its groups come first.
    assert _buttons(talk.teachers)[0][0] == "⭐ Teacher Tom"
    assert "⭐ teaches a group of this course." in talk.teachers.text
    talk.say(f"{_future(days=1):%Y-%m-%d %H:%M}")
    talk.say("1:15")  # typed instead of a button
    confirm = talk.press(_data(talk.last, "Make a Jitsi room"))
    assert "Link: a new Jitsi room" in confirm.text
    assert "For: the whole course" in confirm.text
    assert "Teacher: no teacher" in confirm.text
    # Create pressed twice at once (a double tap): one session, one set of invitations.
    create = _data(confirm, "Create")
    sent = run_bot(
        lambda: telegram_peer.push_callback(STAFF_CHAT, create),
        lambda: telegram_peer.push_callback(STAFF_CHAT, create),
        replies=1 + 3,
    )
    (done,) = [call for call in sent if call.chat_id == STAFF_CHAT]
    assert done.text.startswith("Created")
    alerts = [call.params.get("text") for call in telegram_peer.requests("answerCallbackQuery")]
    assert alerts[-2:].count("This session has already been created.") == 1
    session = LiveSession.objects.get()
    assert session.meeting_url.startswith("https://jitsi.example.org/Parta-")
    assert session.duration_minutes == 75
    assert session.teacher is None
    assert not session.groups.exists()
    assert Invitation.objects.filter(session=session).count() == 3


@pytest.mark.parametrize("at", ["group", "teacher", "when", "duration", "link", "confirm"])
def test_cancel_at_any_step_creates_nothing(run_bot, telegram_peer, school, at):
    talk = Dialogue(run_bot, telegram_peer)
    talk.say("/newsession")
    steps = [
        ("group", lambda: talk.press(_data(talk.last, "Algebra"))),
        ("teacher", lambda: talk.press(_data(talk.last, "Group 2"))),
        ("when", lambda: talk.press(_data(talk.last, "Another Anna"))),
        ("duration", lambda: talk.say(f"{_future():%d.%m %H:%M}")),
        ("link", lambda: talk.press(_data(talk.last, "60 min"))),
        ("confirm", lambda: talk.say("http://meet.example.com/x")),
    ]
    for name, step in steps:
        step()
        if name == at:
            break
    create = [data for text, data in _buttons(talk.last) if text == "Create"]
    cancelled = talk.press(_data(talk.last, "Cancel"))
    assert cancelled.text == "Cancelled: no session was created."
    assert not LiveSession.objects.exists()
    assert not Message.objects.exists()
    if create:  # Create from the cancelled dialogue's message does nothing either
        assert "dialogue that is over" in talk.press_refused(create[0])
        assert not LiveSession.objects.exists()


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("past", "A session cannot start in the past."),
        ("31.02.2030 10:00", "There is no such date or time."),
        ("next friday", "I did not understand the date and time."),
    ],
)
def test_a_bad_start_is_asked_again(run_bot, telegram_peer, school, typed, said):
    talk = Dialogue(run_bot, telegram_peer)
    talk.up_to_when(school)
    if typed == "past":
        typed = f"{timezone.now().astimezone(school_tz()) - timedelta(hours=1):%d.%m.%Y %H:%M}"
    again = talk.say(typed)
    assert again.text.startswith(said)
    assert "Step 4 of 6" in again.text  # the same question, with Cancel
    assert _buttons(again)[-1][0] == "Cancel"
    # The dialogue goes on from there.
    assert "Step 5 of 6" in talk.say(f"{_future():%d.%m %H:%M}").text
    assert not LiveSession.objects.exists()


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("721", "A session lasts at most 12 hours."),
        ("12:01", "A session lasts at most 12 hours."),
        ("0", "The duration must be at least one minute."),
        ("an hour", "Send the length in minutes"),
    ],
)
def test_a_bad_duration_is_asked_again(run_bot, telegram_peer, school, typed, said):
    talk = Dialogue(run_bot, telegram_peer)
    talk.up_to_when(school)
    talk.say(f"{_future():%d.%m %H:%M}")
    again = talk.say(typed)
    assert again.text.startswith(said)
    assert "Step 5 of 6" in again.text
    assert not LiveSession.objects.exists()


@pytest.mark.parametrize(
    "typed", ["ftp://meet.example.com/room", "javascript:alert(1)", "meet dot com"]
)
def test_a_link_that_is_not_http_is_asked_again(run_bot, telegram_peer, school, typed):
    talk = Dialogue(run_bot, telegram_peer)
    talk.up_to_when(school)
    talk.say(f"{_future():%d.%m %H:%M}")
    talk.press(_data(talk.last, "45 min"))
    again = talk.say(typed)
    assert again.text.startswith("The meeting link must be an http or https address.")
    assert "Step 6 of 6" in again.text
    assert not LiveSession.objects.exists()


def test_a_start_that_passed_while_waiting_is_asked_again_at_create(
    run_bot, telegram_peer, school, monkeypatch
):
    talk = Dialogue(run_bot, telegram_peer)
    talk.up_to_when(school)
    start = _future(days=1)
    talk.say(f"{start:%d.%m.%Y %H:%M}")
    talk.press(_data(talk.last, "60 min"))
    confirm = talk.press(_data(talk.last, "Make a Jitsi room"))
    later = start + timedelta(minutes=5)
    monkeypatch.setattr("parta.groups.sessions.timezone.now", lambda: later)
    again = talk.press(_data(confirm, "Create"))
    assert again.text.startswith("A session cannot start in the past.")
    assert "Step 4 of 6" in again.text
    assert not LiveSession.objects.exists()


@pytest.mark.parametrize("who", ["student", "nobody"])
def test_newsession_from_a_student_or_an_unlinked_chat_is_refused(
    run_bot, telegram_peer, school, who
):
    chat = STUDENT_CHATS[0] if who == "student" else 880399
    talk = Dialogue(run_bot, telegram_peer, chat=chat)
    reply = talk.say("/newsession")
    assert "Only the school's moderators and staff can plan live sessions" in reply.text
    assert reply.reply_markup is None
    # Nor can they press a dialogue's buttons (here, the moderator's own).
    owner = Dialogue(run_bot, telegram_peer)
    course_data = _data(owner.say("/newsession"), "Algebra")
    assert "Only the school's moderators and staff" in talk.press_refused(course_data)
    assert not LiveSession.objects.exists()


def test_forged_stale_and_another_persons_buttons_change_nothing(run_bot, telegram_peer, school):
    StaffFactory(telegram_chat_id=OTHER_STAFF_CHAT, language="en")
    talk = Dialogue(run_bot, telegram_peer)
    courses = talk.say("/newsession")
    course_data = _data(courses, "Algebra")
    dialogue_id = course_data.split(":")[1]

    # Malformed data.
    assert talk.press_refused("ns:zz:c:1") == "This button no longer works."
    assert talk.press_refused(f"ns:{dialogue_id}:c:1:2") == "This button no longer works."
    # A course that was not offered (an id of another row).
    assert talk.press_refused(f"ns:{dialogue_id}:c:999999") == "This choice is not offered here."
    # Another person's dialogue: the other staff member presses the moderator's button.
    other = Dialogue(run_bot, telegram_peer, chat=OTHER_STAFF_CHAT)
    assert "dialogue that is over" in other.press_refused(course_data)
    # A step that is not the current one.
    assert "already done" in talk.press_refused(f"ns:{dialogue_id}:ok:0")

    groups = talk.press(course_data)
    # The course button again: a stale step.
    assert "already done" in talk.press_refused(course_data)
    # A group of another course.
    foreign = Group.objects.create(course=CourseFactory(), number=1)
    assert (
        talk.press_refused(f"ns:{dialogue_id}:g:{foreign.pk}")
        == "This choice is not offered here."
    )
    teachers = talk.press(_data(groups, "Group 2"))
    # A student as the teacher.
    student = school["students"][0]
    assert (
        talk.press_refused(f"ns:{dialogue_id}:t:{student.pk}")
        == "This choice is not offered here."
    )
    talk.press(_data(teachers, "No teacher"))
    talk.say(f"{_future():%d.%m %H:%M}")
    # A duration that no button offers.
    assert talk.press_refused(f"ns:{dialogue_id}:d:5000") == "This choice is not offered here."
    # A new /newsession: the old dialogue's buttons stop working.
    talk.say("/newsession")
    assert "dialogue that is over" in talk.press_refused(f"ns:{dialogue_id}:d:60")
    assert not LiveSession.objects.exists()


def test_text_outside_a_dialogue_or_a_reply_to_another_message_is_not_an_answer(
    run_bot, telegram_peer, school
):
    talk = Dialogue(run_bot, telegram_peer)
    # No dialogue: plain text gets the help, as before.
    assert talk.say(f"{_future():%d.%m %H:%M}").text.startswith("I am Parta's bot")
    talk.up_to_when(school)
    # A Telegram reply to some other message (a student's question alert) is not an answer.
    (reply,) = run_bot(
        lambda: telegram_peer.push_message(STAFF_CHAT, f"{_future():%d.%m %H:%M}", reply_to=999),
        replies=1,
    )
    assert "Step 5 of 6" not in reply.text
    # A reply to the dialogue's own question is.
    (message_id,) = session_dialogue._load(school["moderator"])["prompts"][-1:]
    (reply,) = run_bot(
        lambda: telegram_peer.push_message(
            STAFF_CHAT, f"{_future():%d.%m %H:%M}", reply_to=message_id
        ),
        replies=1,
    )
    assert "Step 5 of 6" in reply.text


def test_newsession_is_in_the_help_of_moderators_only(run_bot, telegram_peer, school):
    replies = run_bot(
        lambda: telegram_peer.push_message(STAFF_CHAT, "/help"),
        lambda: telegram_peer.push_message(STUDENT_CHATS[0], "/help"),
        replies=2,
    )
    by_chat = {reply.chat_id: reply.text for reply in replies}
    assert "/newsession" in by_chat[STAFF_CHAT]
    assert "/newsession" not in by_chat[STUDENT_CHATS[0]]


def test_the_dialogue_speaks_russian(run_bot, telegram_peer, school):
    school["moderator"].language = "ru"
    school["moderator"].save(update_fields=["language"])
    talk = Dialogue(run_bot, telegram_peer)
    first = talk.say("/newsession")
    assert "Шаг 1 из 6" in first.text
    assert _buttons(first)[-1][0] == "Отмена"
    talk.press(_data(first, "Algebra"))
    talk.press(_data(talk.last, "Группа 1"))
    when = talk.press(_data(talk.last, "Без преподавателя"))
    assert "12.12 18:30" in when.text
    again = talk.say("завтра")
    assert again.text.startswith("Не понял")


# --- The parsing and the shared rules, without the bot ------------------------------------

NOW = datetime(2026, 12, 20, 12, 0, tzinfo=school_tz())


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("21.12 18:30", datetime(2026, 12, 21, 18, 30)),
        ("21.12.2026 18:30", datetime(2026, 12, 21, 18, 30)),
        ("2026-12-21 18:30", datetime(2026, 12, 21, 18, 30)),
        ("  21.12   9:05 ", datetime(2026, 12, 21, 9, 5)),
        ("05.01 10:00", datetime(2027, 1, 5, 10, 0)),  # that day has passed this year
        ("20.12 11:00", datetime(2026, 12, 20, 11, 0)),  # today, an hour ago: in the past
    ],
)
def test_parse_start_reads_the_three_forms_in_the_school_time_zone(typed, expected):
    assert parse_start(typed, now=NOW) == expected.replace(tzinfo=school_tz())


@pytest.mark.parametrize("typed", ["", "21.12", "18:30", "2026/12/21 18:30", "32.12 10:00"])
def test_parse_start_refuses_anything_else(typed):
    with pytest.raises(BadAnswer):
        parse_start(typed, now=NOW)


def test_parse_minutes():
    assert parse_minutes("90") == 90
    assert parse_minutes("1:30") == 90
    with pytest.raises(BadAnswer):
        parse_minutes("90 min")


def test_session_fields_errors_are_session_creates_rules():
    now = timezone.now()
    assert session_fields_errors(starts_at=now + timedelta(hours=1), now=now) == {}
    assert session_fields_errors(starts_at=now - timedelta(minutes=1), now=now) == {
        "starts_at": ["A session cannot start in the past."]
    }
    assert session_fields_errors(duration_minutes=12 * 60 + 1) == {
        "duration_minutes": ["A session lasts at most 12 hours."]
    }
    assert session_fields_errors(duration_minutes=12 * 60) == {}
    assert "meeting_url" in session_fields_errors(meeting_url="ftp://x.example.com/")
    assert session_fields_errors(meeting_url="") == {}  # empty: a Jitsi room
    assert session_dialogue.may_plan(None) is False


def test_the_group_and_teacher_screens_take_the_same_queries_for_one_or_many():
    """The screens' reads do not grow with the groups and teachers shown (the cache's own
    queries, when it is the database, are the same in both)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    moderator = ModeratorFactory()

    def queries(groups: int, teachers: int) -> tuple[int, int]:
        course = CourseFactory()
        for number in range(1, groups + 1):
            Group.objects.create(course=course, number=number, teacher=ModeratorFactory())
        for _n in range(teachers):
            ModeratorFactory()
        screen = session_dialogue.dialogue_start(user=moderator)
        course_data = next(
            data for row in screen.buttons for text, data in row if text == course.title
        )
        with CaptureQueriesContext(connection) as to_groups:
            screen = session_dialogue.dialogue_press(user=moderator, data=course_data)
        whole = screen.buttons[0][0][1]
        with CaptureQueriesContext(connection) as to_teachers:
            screen = session_dialogue.dialogue_press(user=moderator, data=whole)
        shown = min(teacher_choices().count(), session_dialogue.TEACHER_BUTTONS)
        assert len(screen.buttons) == shown + 2  # and No teacher, Cancel
        return len(to_groups), len(to_teachers)

    assert queries(1, 1) == queries(8, 6)
