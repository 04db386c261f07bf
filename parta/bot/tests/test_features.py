"""/news, /settings and /broadcast, fed as real updates through getUpdates to the real
dispatcher (the fake Bot API answers, records the replies and the button edits)."""

from __future__ import annotations

import pytest

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.bot import services
from parta.catalog.tests.factories import CourseFactory
from parta.common.errors import ValidationFailed
from parta.news.models import Audience, Post, PostStatus
from parta.news.services import post_create, post_publish
from parta.notifications.models import Message, Preference

pytestmark = pytest.mark.django_db(transaction=True)

CHAT = 880101
STAFF_CHAT = 880202


def _published(title: str, *, audience=Audience.ALL, course=None, author=None) -> Post:
    post = post_create(
        author=author or ModeratorFactory(),
        title=title,
        body="Text",
        audience=audience,
        course=course,
    )
    return post_publish(post=post)


def _buttons(call) -> list[tuple[str, str]]:
    return [
        (button["text"], button["callback_data"])
        for row in call.reply_markup["inline_keyboard"]
        for button in row
    ]


# --- /news ---------------------------------------------------------------------------------


def test_news_lists_the_five_newest_posts_the_student_may_read(run_bot, telegram_peer):
    student = UserFactory(telegram_chat_id=CHAT, language="en")
    mine, theirs = CourseFactory(), CourseFactory()
    AccessGrantFactory(user=student, course=mine)
    author = ModeratorFactory()
    posts = [_published(f"Post {n} <b>", author=author) for n in range(6)]
    course_post = _published("For my course", audience=Audience.COURSE, course=mine)
    _published("For another course", audience=Audience.COURSE, course=theirs)

    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/news"), replies=1)

    assert "For another course" not in reply.text
    assert "For my course" in reply.text
    # Newest first, five in all: the course post and posts 5..2; post 1 and 0 are older.
    for post in posts[2:]:
        assert f"/news/{post.pk}/" in reply.text
    assert f"/news/{posts[1].pk}/" not in reply.text
    assert f"/news/{course_post.pk}/" in reply.text
    assert "Post 5 &lt;b&gt;" in reply.text  # titles are escaped for HTML mode
    assert reply.text.count("<a href=") == 5
    assert reply.params["parse_mode"] == "HTML"


def test_news_with_none_says_so(run_bot, telegram_peer):
    UserFactory(telegram_chat_id=CHAT, language="en")
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/news"), replies=1)
    assert reply.text == "No news yet."


def test_news_in_an_unlinked_chat_says_how_to_link(run_bot, telegram_peer):
    _published("Hidden")
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/news"), replies=1)
    assert "not linked" in reply.text
    assert "Hidden" not in reply.text


# --- /settings -----------------------------------------------------------------------------


def test_settings_toggles_a_kind_on_telegram_and_shows_the_new_state(run_bot, telegram_peer):
    student = UserFactory(telegram_chat_id=CHAT, language="en")
    (screen,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/settings"), replies=1)
    buttons = dict(_buttons(screen))
    assert "Notifications in Telegram" in screen.text
    assert buttons["✅ School news"] == "pref:set:telegram:news:0"
    # Receipts and the school's own messages cannot be switched off: locks, not switches.
    locked = [data for text, data in buttons.items() if text.startswith("🔒")]
    assert {"crm_message", "receipt"} <= {data.split(":")[3] for data in locked}
    assert "news" not in {data.split(":")[3] for data in locked}
    assert all(data.startswith("pref:locked:telegram:") for data in locked)

    run_bot(lambda: telegram_peer.push_callback(CHAT, "pref:set:telegram:news:0"), replies=0)

    assert Preference.objects.get(user=student, kind="news", channel="telegram").enabled is False
    (edit,) = telegram_peer.requests("editMessageText")
    assert ("▫️ School news", "pref:set:telegram:news:1") in _buttons(edit)
    answer = telegram_peer.requests("answerCallbackQuery")[-1]
    assert answer.params["text"] == "Saved: off."

    # The same (old) button tapped again sets the same state: it does not flip back.
    run_bot(lambda: telegram_peer.push_callback(CHAT, "pref:set:telegram:news:0"), replies=0)
    assert Preference.objects.get(user=student, kind="news", channel="telegram").enabled is False


def test_settings_shows_another_channel_and_a_locked_kind_stays_on(run_bot, telegram_peer):
    student = UserFactory(telegram_chat_id=CHAT, language="en")
    run_bot(lambda: telegram_peer.push_callback(CHAT, "pref:show:email"), replies=0)
    (edit,) = telegram_peer.requests("editMessageText")
    assert "Notifications by email" in edit.params["text"]
    assert ("• Email", "pref:show:email") in _buttons(edit)

    run_bot(lambda: telegram_peer.push_callback(CHAT, "pref:locked:email:receipt"), replies=0)
    answer = telegram_peer.requests("answerCallbackQuery")[-1]
    assert "cannot be switched off" in answer.params["text"]
    # A forged button that tries to switch receipts off is refused; nothing is stored.
    run_bot(lambda: telegram_peer.push_callback(CHAT, "pref:set:email:receipt:0"), replies=0)
    answer = telegram_peer.requests("answerCallbackQuery")[-1]
    assert "cannot be switched off" in answer.params["text"]
    assert answer.params["show_alert"] in (True, "true", "True")
    run_bot(lambda: telegram_peer.push_callback(CHAT, "pref:set:email:no_such:1"), replies=0)
    answer = telegram_peer.requests("answerCallbackQuery")[-1]
    assert answer.params["text"] == "There is no such kind of notification."
    assert not Preference.objects.filter(user=student).exists()


def test_settings_in_russian_and_for_an_unlinked_chat(run_bot, telegram_peer):
    (stranger,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/settings"), replies=1)
    assert "not linked" in stranger.text
    run_bot(lambda: telegram_peer.push_callback(CHAT, "pref:set:telegram:news:0"), replies=0)
    assert "not linked" in telegram_peer.requests("answerCallbackQuery")[-1].params["text"]
    assert not Preference.objects.exists()

    UserFactory(telegram_chat_id=CHAT + 1, language="ru")
    (screen,) = run_bot(lambda: telegram_peer.push_message(CHAT + 1, "/settings"), replies=1)
    assert "Уведомления в Telegram" in screen.text
    assert any(text == "✅ Новости школы" for text, _data in _buttons(screen))


# --- /broadcast ----------------------------------------------------------------------------


def test_broadcast_previews_then_sends_to_students_with_access(run_bot, telegram_peer):
    moderator = ModeratorFactory(telegram_chat_id=STAFF_CHAT, language="en")
    course = CourseFactory()
    with_access = UserFactory(email="with@example.com")
    AccessGrantFactory(user=with_access, course=course)
    without_access = UserFactory(email="without@example.com")
    text = "/broadcast Lessons resume Monday\nBring <script>alert(1)</script> your notes."

    (preview,) = run_bot(lambda: telegram_peer.push_message(STAFF_CHAT, text), replies=1)

    post = Post.objects.get()
    assert post.status == PostStatus.DRAFT
    assert post.author == moderator
    assert post.audience == Audience.ACTIVE
    assert post.title == "Lessons resume Monday"
    assert "&lt;script&gt;" in preview.text
    assert "<script>" not in preview.text
    assert _buttons(preview) == [("Send", f"bc:ok:{post.pk}"), ("Cancel", f"bc:no:{post.pk}")]
    assert not Message.objects.exists()

    (done,) = run_bot(
        lambda: telegram_peer.push_callback(STAFF_CHAT, f"bc:ok:{post.pk}"), replies=1
    )

    post.refresh_from_db()
    assert post.status in (PostStatus.SENDING, PostStatus.SENT)
    assert "Sent: the post goes to 1 student." in done.text
    assert f"/workspace/news/{post.pk}/" in done.text
    assert set(Message.objects.values_list("user__email", flat=True)) == {"with@example.com"}
    assert not Message.objects.filter(user=without_access).exists()
    assert telegram_peer.requests("editMessageReplyMarkup")  # the buttons are gone

    # Send tapped again (a second tap, an old message): nothing is sent twice.
    rows = Message.objects.count()
    run_bot(lambda: telegram_peer.push_callback(STAFF_CHAT, f"bc:ok:{post.pk}"), replies=0)
    assert telegram_peer.requests("answerCallbackQuery")[-1].params["text"] == (
        "This post has already been sent."
    )
    assert Message.objects.count() == rows


def test_broadcast_cancel_deletes_the_draft(run_bot, telegram_peer):
    ModeratorFactory(telegram_chat_id=STAFF_CHAT, language="en")
    run_bot(lambda: telegram_peer.push_message(STAFF_CHAT, "/broadcast Hello all"), replies=1)
    post = Post.objects.get()
    assert post.title == post.body == "Hello all"
    (cancelled,) = run_bot(
        lambda: telegram_peer.push_callback(STAFF_CHAT, f"bc:no:{post.pk}"), replies=1
    )
    assert cancelled.text == "Cancelled: nothing was sent."
    assert not Post.objects.exists()
    assert not Message.objects.exists()


@pytest.mark.parametrize("linked_as", ["student", "nobody"])
def test_broadcast_from_a_student_or_an_unlinked_chat_is_refused(
    run_bot, telegram_peer, linked_as
):
    if linked_as == "student":
        UserFactory(telegram_chat_id=CHAT, language="en")
    (reply,) = run_bot(
        lambda: telegram_peer.push_message(CHAT, "/broadcast Free pizza"), replies=1
    )
    assert "Only the school's moderators and staff can send news" in reply.text
    assert not Post.objects.exists()


def test_a_student_cannot_press_someone_elses_send_button(run_bot, telegram_peer):
    ModeratorFactory(telegram_chat_id=STAFF_CHAT, language="en")
    run_bot(lambda: telegram_peer.push_message(STAFF_CHAT, "/broadcast Hello"), replies=1)
    post = Post.objects.get()
    UserFactory(telegram_chat_id=CHAT, language="en")
    other_moderator_chat = CHAT + 7
    ModeratorFactory(telegram_chat_id=other_moderator_chat, language="en")
    run_bot(lambda: telegram_peer.push_callback(CHAT, f"bc:ok:{post.pk}"), replies=0)
    assert (
        "Only the school's moderators"
        in (telegram_peer.requests("answerCallbackQuery")[-1].params["text"])
    )
    run_bot(
        lambda: telegram_peer.push_callback(other_moderator_chat, f"bc:ok:{post.pk}"), replies=0
    )
    assert telegram_peer.requests("answerCallbackQuery")[-1].params["text"] == (
        "This draft no longer exists."
    )
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("/broadcast", "Write the text after the command"),
        ("/broadcast    ", "Write the text after the command"),
        ("/broadcast " + "x" * 4080, None),  # as long as Telegram allows: fits under 5,000
    ],
)
def test_broadcast_bad_text(run_bot, telegram_peer, text, error):
    ModeratorFactory(telegram_chat_id=STAFF_CHAT, language="en")
    (reply,) = run_bot(lambda: telegram_peer.push_message(STAFF_CHAT, text), replies=1)
    if error:
        assert error in reply.text
        assert not Post.objects.exists()
    else:
        assert len(reply.text) <= 4096  # the preview fits in one Telegram message
        assert reply.text.endswith("Send it?")
        assert len(Post.objects.get().body) == 4080


def test_broadcast_of_a_text_over_the_post_limit_is_refused():
    moderator = ModeratorFactory(telegram_chat_id=STAFF_CHAT, language="en")
    with pytest.raises(ValidationFailed) as caught:
        services.broadcast_draft(user=moderator, text="Title\n" + "y" * 10_000)
    assert "at most 5 000 characters" in str(caught.value)
    assert not Post.objects.exists()


def test_help_lists_broadcast_for_staff_only(run_bot, telegram_peer):
    ModeratorFactory(telegram_chat_id=STAFF_CHAT, language="en")
    UserFactory(telegram_chat_id=CHAT, language="en")
    replies = run_bot(
        lambda: telegram_peer.push_message(STAFF_CHAT, "/help"),
        lambda: telegram_peer.push_message(CHAT, "/help"),
        replies=2,
    )
    by_chat = {reply.chat_id: reply.text for reply in replies}
    assert "/broadcast" in by_chat[STAFF_CHAT]
    assert "/broadcast" not in by_chat[CHAT]
    for text in by_chat.values():
        assert "/news" in text
        assert "/settings" in text


def test_a_failing_handler_apologises_in_the_users_language(run_bot, telegram_peer, monkeypatch):
    from parta.bot import selectors

    UserFactory(telegram_chat_id=CHAT, language="en")
    UserFactory(telegram_chat_id=CHAT + 1, language="ru")

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(selectors, "latest_news", broken)
    replies = run_bot(
        lambda: telegram_peer.push_message(CHAT, "/news"),
        lambda: telegram_peer.push_message(CHAT + 1, "/news", language="en"),
        lambda: telegram_peer.push_message(CHAT + 2, "/help", language="en"),
        replies=3,
    )
    by_chat = {reply.chat_id: reply.text for reply in replies}
    assert by_chat[CHAT] == "Something went wrong on our side. Please try again later."
    assert by_chat[CHAT + 1] == "У нас что-то пошло не так. Пожалуйста, попробуйте позже."
    assert by_chat[CHAT + 2].startswith("I am Parta's bot")  # the loop goes on
