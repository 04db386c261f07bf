"""The bot's commands, fed as real updates through getUpdates to the real dispatcher."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.bot import selectors, services
from parta.bot.models import LinkToken
from parta.catalog.tests.factories import TaskFactory
from parta.learning.services import task_answer_submit

pytestmark = pytest.mark.django_db(transaction=True)

CHAT = 880001


def test_a_linked_user_hears_their_own_language(run_bot, telegram_peer):
    UserFactory(telegram_chat_id=CHAT)  # no language chosen: the school's (Russian)
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/help", language="en"), replies=1)
    assert "ваши успехи по каждому курсу" in reply.text


def test_a_good_token_links_the_chat(run_bot, telegram_peer):
    user = UserFactory(full_name="Ann <Smith>", language="en")
    token = services.link_token_create(user=user)
    assert len(token) <= 64
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, f"/start {token}"), replies=1)
    assert reply.chat_id == CHAT
    assert "linked to Ann &lt;Smith&gt;" in reply.text
    user.refresh_from_db()
    assert user.telegram_chat_id == CHAT
    row = LinkToken.objects.get(user=user)
    assert row.used_by_chat_id == CHAT
    assert row.digest != token  # only the digest is stored


def test_an_expired_token_is_refused(run_bot, telegram_peer):
    user = UserFactory()
    token = services.link_token_create(user=user)
    LinkToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, f"/start {token}"), replies=1)
    assert "expired" in reply.text
    user.refresh_from_db()
    assert user.telegram_chat_id is None


def test_a_used_token_is_refused_to_another_chat(run_bot, telegram_peer):
    user = UserFactory()
    token = services.link_token_create(user=user)
    services.telegram_link(token=token, chat_id=CHAT)
    services.telegram_unlink(user=user)
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT + 1, f"/start {token}"), replies=1)
    assert "already been used" in reply.text
    user.refresh_from_db()
    assert user.telegram_chat_id is None


@pytest.mark.parametrize(
    "token",
    [
        "dGhpcyBpcyBhbm90aGVyIGJvdHMgdG9rZW4",  # well formed, but not one of ours
        "x" * 65,
        "bad*chars!",
    ],
)
def test_a_token_that_is_not_ours_is_refused(run_bot, telegram_peer, token):
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, f"/start {token}"), replies=1)
    assert "not valid" in reply.text
    assert not LinkToken.objects.exists()


def test_a_chat_linked_to_someone_else_is_refused(run_bot, telegram_peer):
    UserFactory(telegram_chat_id=CHAT, language="en")
    other = UserFactory()
    token = services.link_token_create(user=other)
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, f"/start {token}"), replies=1)
    assert "already linked to another Parta account" in reply.text
    other.refresh_from_db()
    assert other.telegram_chat_id is None
    # The token was not spent: after /unlink there, the same link still works.
    services.telegram_unlink_chat(chat_id=CHAT)
    assert services.telegram_link(token=token, chat_id=CHAT) == other


def test_start_without_a_token_greets_with_the_help(run_bot, telegram_peer):
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/start"), replies=1)
    assert reply.text.startswith("Hello!")
    assert "/help" in reply.text
    assert "Connect Telegram" in reply.text


def test_help_and_unknown_text_and_commands_get_the_help(run_bot, telegram_peer):
    replies = run_bot(
        lambda: telegram_peer.push_message(CHAT, "/help"),
        lambda: telegram_peer.push_message(CHAT, "what is this?"),
        lambda: telegram_peer.push_message(CHAT, "/frobnicate now"),
        replies=3,
    )
    assert len(replies) == 3
    for reply in replies:
        assert "/help — this list" in reply.text


def test_help_speaks_the_telegram_apps_language_to_a_stranger(run_bot, telegram_peer):
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/help", language="ru"), replies=1)
    assert "этот список" in reply.text


def test_unlink(run_bot, telegram_peer):
    user = UserFactory(telegram_chat_id=CHAT, language="en")
    (first,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/unlink"), replies=1)
    (second,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/unlink"), replies=1)
    assert "unlinked" in first.text
    assert "not linked" in second.text
    user.refresh_from_db()
    assert user.telegram_chat_id is None


def test_stats_per_course(run_bot, telegram_peer):
    user = UserFactory(telegram_chat_id=CHAT, language="en")
    task = TaskFactory(topic__course__title="Algebra & <Geometry>")
    TaskFactory(topic=task.topic)
    AccessGrantFactory(user=user, course=task.topic.course)
    task_answer_submit(user=user, task=task, data={"answer": "42"})
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/stats"), replies=1)
    assert "<b>Algebra &amp; &lt;Geometry&gt;</b>" in reply.text
    assert "Tasks solved: 1 of 2" in reply.text
    assert "Streak: 1 day" in reply.text


def test_stats_for_an_unlinked_chat_says_how_to_link(run_bot, telegram_peer):
    (reply,) = run_bot(lambda: telegram_peer.push_message(CHAT, "/stats"), replies=1)
    assert "not linked to an account yet" in reply.text


def test_a_user_who_blocked_the_bot_and_writes_again_is_reachable(run_bot, telegram_peer):
    user = UserFactory(telegram_chat_id=CHAT, telegram_blocked_at=timezone.now())
    run_bot(lambda: telegram_peer.push_message(CHAT, "/help"), replies=1)
    user.refresh_from_db()
    assert user.telegram_blocked_at is None
    assert user.telegram_reachable


def test_the_loop_survives_a_failing_handler(run_bot, telegram_peer, monkeypatch):
    UserFactory(telegram_chat_id=CHAT, language="en")

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(selectors, "stats_for", broken)
    replies = run_bot(
        lambda: telegram_peer.push_message(CHAT, "/stats"),
        lambda: telegram_peer.push_message(CHAT, "/help"),
        replies=2,
    )
    texts = sorted(reply.text for reply in replies)  # handled concurrently: any order
    assert texts[0].startswith("I am Parta's bot")
    assert texts[1] == "Something went wrong on our side. Please try again later."


def test_a_flood_from_one_chat_is_throttled(run_bot, telegram_peer):
    pushes = [lambda: telegram_peer.push_message(CHAT, "/help") for _ in range(12)]
    pushes.append(lambda: telegram_peer.push_message(CHAT + 5, "/help"))
    replies = run_bot(*pushes, replies=9)
    assert len([r for r in replies if r.chat_id == CHAT]) == 8
    assert len([r for r in replies if r.chat_id == CHAT + 5]) == 1


def test_a_stale_button_is_answered(run_bot, telegram_peer):
    run_bot(lambda: telegram_peer.push_callback(CHAT, "gone:1"), replies=0)
    (answer,) = telegram_peer.requests("answerCallbackQuery")
    assert answer.params["text"] == "This button no longer works."
