"""Chat and Telegram through the fake Bot API: a question's alert reaches a moderator who
linked Telegram; their Telegram reply to it (a real update through getUpdates and the real
dispatcher) posts into the thread; the student hears of it; everything else that replies
is refused with a message and stores nothing."""

from __future__ import annotations

import pytest

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import TaskFactory, TopicFactory
from parta.chat.models import ChatMessage, MessageSource, Thread, ThreadState
from parta.chat.services import task_thread_open
from parta.notifications.models import Message, Status

pytestmark = pytest.mark.django_db(transaction=True)

MODERATOR_CHAT = 660101
STUDENT_CHAT = 660202
STRANGER_CHAT = 660303


@pytest.fixture
def setting_up(telegram_peer):
    task = TaskFactory(topic=TopicFactory(), title="Дроби <и> проценты", chat_ask_after=0)
    student = UserFactory(full_name="Ученица Учёная", language="ru")
    AccessGrantFactory(user=student, course=task.topic.course)
    moderator = ModeratorFactory(full_name="Мария Ивановна", telegram_chat_id=MODERATOR_CHAT)
    moderator.language = "en"
    moderator.save(update_fields=["language"])
    return task, student, moderator


def _ask(task, student, text="Почему 3/4 не равно 0,75?") -> tuple[Thread, int]:
    thread = task_thread_open(student=student, task=task, text=text)
    alert = Message.objects.get(kind="chat_question", channel="telegram")
    assert alert.status == Status.SENT, alert.last_error
    return thread, int(alert.peer_id)


def test_the_alert_reaches_the_moderator_and_their_reply_posts_into_the_thread(
    setting_up, run_bot, telegram_peer
):
    task, student, moderator = setting_up
    thread, alert_id = _ask(task, student)
    (alert,) = telegram_peer.sent(MODERATOR_CHAT)
    assert "Question about the task “Дроби &lt;и&gt; проценты”" in alert.text
    assert "Ученица Учёная asks about the task" in alert.text
    assert "Почему 3/4 не равно 0,75?" in alert.text
    assert f"/chat/threads/{thread.pk}/" in alert.text
    assert "reply to this message to answer the student" in alert.text

    (answer,) = run_bot(
        lambda: telegram_peer.push_message(
            MODERATOR_CHAT, "3/4 = 0,75: проверьте запятую.", reply_to=alert_id
        ),
        replies=1,
    )
    assert answer.chat_id == MODERATOR_CHAT
    assert "Sent to the thread “Дроби &lt;и&gt; проценты”." in answer.text
    posted = thread.messages.order_by("id").last()
    assert (posted.author, posted.source, posted.from_staff, posted.text) == (
        moderator,
        MessageSource.TELEGRAM,
        True,
        "3/4 = 0,75: проверьте запятую.",
    )
    thread.refresh_from_db()
    assert thread.state == ThreadState.AWAITING_STUDENT
    # The student is not linked: the bell and one email.
    channels = sorted(
        Message.objects.filter(kind="chat_reply", user=student).values_list("channel", flat=True)
    )
    assert channels == ["email", "site"]


def test_a_linked_student_hears_of_the_answer_in_telegram_in_russian(
    setting_up, run_bot, telegram_peer
):
    task, student, _moderator = setting_up
    student.telegram_chat_id = STUDENT_CHAT
    student.save(update_fields=["telegram_chat_id"])
    thread, alert_id = _ask(task, student)
    run_bot(
        lambda: telegram_peer.push_message(MODERATOR_CHAT, "Смотрите шаг 2", reply_to=alert_id),
        replies=2,
    )
    (told,) = telegram_peer.sent(STUDENT_CHAT)
    assert told.text.startswith(
        "<b>Модератор ответил на ваш вопрос о задаче «Дроби &lt;и&gt; проценты»</b>"
    )
    assert "Смотрите шаг 2" in told.text
    assert f"/chat/threads/{thread.pk}/" in told.text
    assert not Message.objects.filter(kind="chat_reply", channel="email").exists()


def test_the_same_update_delivered_twice_posts_once(setting_up, run_bot, telegram_peer):
    task, student, _moderator = setting_up
    thread, alert_id = _ask(task, student)

    def twice():
        telegram_peer.push_message(MODERATOR_CHAT, "Once", reply_to=alert_id, message_id=90001)
        telegram_peer.push_message(MODERATOR_CHAT, "Once", reply_to=alert_id, message_id=90001)

    first, second = run_bot(twice, replies=2)
    assert "Sent to the thread" in first.text
    assert "already in the thread" in second.text
    assert thread.messages.filter(source=MessageSource.TELEGRAM).count() == 1


def test_replies_from_an_unlinked_chat_a_student_or_to_another_message_are_refused(
    setting_up, run_bot, telegram_peer
):
    task, student, _moderator = setting_up
    student.telegram_chat_id = STUDENT_CHAT
    student.save(update_fields=["telegram_chat_id"])
    thread, alert_id = _ask(task, student)
    other_moderator = ModeratorFactory(telegram_chat_id=STRANGER_CHAT + 1, language="en")
    before = ChatMessage.objects.count()

    replies = run_bot(
        lambda: telegram_peer.push_message(STRANGER_CHAT, "I am a teacher", reply_to=alert_id),
        lambda: telegram_peer.push_message(
            STUDENT_CHAT, "Let me answer myself", reply_to=alert_id
        ),
        # Not an alert: a message id the bot never sent this moderator as an alert.
        lambda: telegram_peer.push_message(MODERATOR_CHAT, "Answer", reply_to=alert_id + 500),
        # Another moderator's chat: the alert id is not theirs.
        lambda: telegram_peer.push_message(
            other_moderator.telegram_chat_id, "Hi", reply_to=alert_id
        ),
        replies=4,
    )
    by_chat = {reply.chat_id: reply.text for reply in replies}
    assert "not linked to a Parta account" in by_chat[STRANGER_CHAT]
    # The student is answered in their own language.
    assert "Отвечать на вопросы из Telegram могут только модераторы" in by_chat[STUDENT_CHAT]
    assert "This is not a question's alert" in by_chat[MODERATOR_CHAT]
    assert "This is not a question's alert" in by_chat[other_moderator.telegram_chat_id]
    assert ChatMessage.objects.count() == before
    assert Thread.objects.get(pk=thread.pk).state == ThreadState.AWAITING_MODERATOR


def test_a_reply_without_text_or_too_long_is_refused(setting_up, run_bot, telegram_peer):
    task, student, _moderator = setting_up
    thread, alert_id = _ask(task, student)
    replies = run_bot(
        lambda: telegram_peer.push_message(MODERATOR_CHAT, "   ", reply_to=alert_id),
        lambda: telegram_peer.push_message(MODERATOR_CHAT, "x" * 4001, reply_to=alert_id),
        replies=2,
    )
    assert "Only text answers can be sent from Telegram" in replies[0].text
    assert "The message is too long: 4001 characters" in replies[1].text
    assert thread.messages.count() == 1


def test_a_command_sent_as_a_reply_is_still_the_command(setting_up, run_bot, telegram_peer):
    task, student, _moderator = setting_up
    thread, alert_id = _ask(task, student)
    (reply,) = run_bot(
        lambda: telegram_peer.push_message(MODERATOR_CHAT, "/help", reply_to=alert_id),
        replies=1,
    )
    assert "/help" in reply.text
    assert thread.messages.count() == 1
