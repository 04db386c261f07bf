"""The Telegram channel against the fake Bot API server: sending, Telegram's refusals, and the
shared limiter."""

from __future__ import annotations

import itertools
import os
import threading
import time

import pytest

from parta.accounts.tests.factories import UserFactory
from parta.notifications import telegram_api
from parta.notifications.channels.base import DeliveryFailed, RetryLater, SkipDelivery
from parta.notifications.channels.telegram import TelegramSender
from parta.notifications.kinds import Kind, register_kind
from parta.notifications.models import Message

KIND = "telegram_channel_test"


@pytest.fixture
def kind_templates(settings, tmp_path):
    register_kind(Kind(name=KIND, label="Test"))
    folder = tmp_path / "notifications" / KIND
    folder.mkdir(parents=True)
    # Plain-text templates, as body.txt is: what they print is escaped by the channel.
    (folder / "subject.txt").write_text("{% autoescape off %}Paid: {{ title }}{% endautoescape %}")
    (folder / "body.txt").write_text(
        "{% autoescape off %}Total {{ total }} & <thanks>, {{ user.full_name }}{% endautoescape %}"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    return folder


def _message(user, **context) -> Message:
    return Message.objects.create(
        user=user,
        kind=KIND,
        channel="telegram",
        dedup_key=f"test:{Message.objects.count()}",
        context={"title": "Course <A>", "total": "100 ₽", **context},
    )


@pytest.fixture
def linked(db):
    return UserFactory(telegram_chat_id=7001, full_name="Ann")


def test_sends_subject_in_bold_and_the_escaped_body(telegram_peer, kind_templates, linked):
    peer_id = TelegramSender().send(_message(linked))
    (call,) = telegram_peer.sent()
    assert call.chat_id == 7001
    assert call.params["parse_mode"] == "HTML"
    assert call.text == "<b>Paid: Course &lt;A&gt;</b>\n\nTotal 100 ₽ &amp; &lt;thanks&gt;, Ann"
    assert peer_id.isdigit()


def test_retry_after_is_passed_on(telegram_peer, kind_templates, linked):
    telegram_peer.fail("429", chat_id=7001, times=1, retry_after=7)
    with pytest.raises(RetryLater) as caught:
        TelegramSender().send(_message(linked))
    assert caught.value.retry_after == 7
    assert telegram_peer.sent() == []


def test_server_errors_retry_later_without_a_time(telegram_peer, kind_templates, linked):
    telegram_peer.fail("5xx", times=1, status=502)
    with pytest.raises(RetryLater) as caught:
        TelegramSender().send(_message(linked))
    assert caught.value.retry_after is None
    # The next call goes through: nothing about the first stuck.
    TelegramSender().send(_message(linked))
    assert len(telegram_peer.sent()) == 1


def test_a_blocked_bot_marks_the_user_and_stops_trying(telegram_peer, kind_templates, linked):
    telegram_peer.fail("403", chat_id=7001)
    with pytest.raises(SkipDelivery) as caught:
        TelegramSender().send(_message(linked))
    assert caught.value.reason == "blocked"
    linked.refresh_from_db()
    assert linked.telegram_blocked_at is not None
    assert not linked.telegram_reachable
    calls = len(telegram_peer.requests("sendMessage"))
    with pytest.raises(SkipDelivery, match="blocked"):
        TelegramSender().send(_message(linked))
    assert len(telegram_peer.requests("sendMessage")) == calls


def test_a_migrated_group_is_followed_once(telegram_peer, kind_templates, linked):
    telegram_peer.fail("migrate", chat_id=7001, migrate_to=-1007001)
    TelegramSender().send(_message(linked))
    linked.refresh_from_db()
    assert linked.telegram_chat_id == -1007001
    assert [call.chat_id for call in telegram_peer.sent()] == [-1007001]


def test_a_bad_request_fails_for_good(telegram_peer, kind_templates, linked):
    telegram_peer.fail("400", chat_id=7001)
    with pytest.raises(DeliveryFailed, match="chat not found"):
        TelegramSender().send(_message(linked))


def test_not_linked_and_bot_off_are_skipped(telegram_peer, kind_templates, settings, db):
    with pytest.raises(SkipDelivery, match="not linked"):
        TelegramSender().send(_message(UserFactory()))
    settings.TELEGRAM_BOT_TOKEN = ""
    with pytest.raises(SkipDelivery, match="bot not configured"):
        TelegramSender().send(_message(UserFactory(telegram_chat_id=7002)))
    assert telegram_peer.requests() == []


def test_long_text_is_cut_to_telegrams_limit(telegram_peer):
    telegram_api.telegram_send(chat_id=1, text="x" * 5000)
    (call,) = telegram_peer.sent()
    assert len(call.text) == telegram_api.TEXT_LIMIT


def _in_a_thread(work) -> None:
    """Run ``work`` in a plain thread (the test's may run Playwright's loop); re-raise."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if failures:
        raise failures[0]


def test_one_loop_and_session_per_thread_are_kept_and_closed(telegram_peer):
    def work() -> None:
        telegram_api.telegram_send(chat_id=1, text="one")
        first = telegram_api._thread_bot()
        session = first.bot.session
        telegram_api.telegram_send(chat_id=2, text="two")
        assert telegram_api._thread_bot() is first
        assert first.bot.session is session
        telegram_api.telegram_close()
        assert first.loop.is_closed()
        assert telegram_api._thread_bot() is not first

    _in_a_thread(work)
    assert len(telegram_peer.sent()) == 2


def test_sending_from_a_thread_that_runs_an_event_loop(telegram_peer):
    """An ASGI server's thread (or a test's Playwright loop): the send goes to a helper."""

    async def inside_a_loop() -> int:
        return telegram_api.telegram_send(chat_id=3, text="from a loop")

    import asyncio

    _in_a_thread(lambda: asyncio.run(inside_a_loop()))
    assert [call.chat_id for call in telegram_peer.sent()] == [3]


def _send_concurrently(jobs: list[list[int]]) -> None:
    errors: list[BaseException] = []

    def run(chats: list[int]) -> None:
        try:
            for chat in chats:
                telegram_api.telegram_send(chat_id=chat, text=f"to {chat}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            telegram_api.telegram_close()

    threads = [threading.Thread(target=run, args=(chats,)) for chats in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_one_message_a_second_per_chat_under_concurrent_senders(telegram_peer, settings):
    settings.PARTA_TELEGRAM_RATE = 1000
    # Four senders all writing to the same two chats.
    _send_concurrently([[501, 502], [501, 502], [501, 502], [501, 502]])
    for chat in (501, 502):
        times = sorted(call.at for call in telegram_peer.sent(chat))
        assert len(times) == 4
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert min(gaps) >= 0.9, gaps


def test_the_global_rate_holds_for_every_sender_together(telegram_peer, settings):
    settings.PARTA_TELEGRAM_RATE = 20
    started = time.monotonic()
    _send_concurrently([list(range(base, base + 10)) for base in (1000, 2000, 3000, 4000)])
    elapsed = time.monotonic() - started
    times = [call.at for call in telegram_peer.sent()]
    assert len(times) == 40
    # 40 messages at 20/s: at least 39 intervals of 50 ms, never more than ~20 in a second.
    assert elapsed >= 1.9
    assert _max_in_window(times, 1.0) <= 21


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
def test_the_redis_limiter_is_shared_by_separate_limiters(settings):
    """Separate RedisLimiter objects stand for separate worker processes."""
    settings.PARTA_TELEGRAM_RATE = 50
    settings.PARTA_TELEGRAM_CHAT_INTERVAL = 1.0
    limiters = [telegram_api.RedisLimiter(os.environ["REDIS_URL"], "parta-test") for _ in range(4)]
    limiters[0].reset()
    slots: list[tuple[int, float]] = []
    lock = threading.Lock()

    def book(limiter, chats):
        for chat in chats:
            while True:
                asked = time.monotonic()
                booked, wait = limiter.reserve(chat)
                if booked:
                    with lock:
                        slots.append((chat, asked + wait))
                    break
                time.sleep(wait)

    threads = [
        threading.Thread(target=book, args=(limiter, [1, 2, *range(10 * n, 10 * n + 8)]))
        for n, limiter in enumerate(limiters, start=1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    limiters[0].reset()
    assert len(slots) == 40
    times = sorted(moment for _chat, moment in slots)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # 1/50 s apart on Redis's clock; seen from here, give or take a round trip.
    assert min(gaps) >= 0.01
    assert times[-1] - times[0] >= 0.95 * 39 / 50
    for chat in (1, 2):
        chat_times = sorted(moment for booked_chat, moment in slots if booked_chat == chat)
        assert len(chat_times) == 4
        assert min(b - a for a, b in itertools.pairwise(chat_times)) >= 0.95


@pytest.fixture
def database_cache(settings):
    """The base settings' cache without Redis: the database table every process shares."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "parta_cache",
        }
    }
    from django.core.cache import caches

    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.mark.postgres  # SQLite's shared in-memory test database locks whole tables
@pytest.mark.django_db(transaction=True)
def test_without_redis_the_limiter_goes_through_the_database_cache(
    telegram_peer, settings, database_cache
):
    settings.REDIS_URL = ""
    settings.PARTA_TELEGRAM_RATE = 20
    assert isinstance(telegram_api.get_limiter(), telegram_api.CacheLimiter)
    # Separate limiters stand for separate processes: they share only the database.
    limiters = [telegram_api.CacheLimiter() for _ in range(3)]
    slots: list[tuple[int, float]] = []
    lock = threading.Lock()

    def book(limiter, chats):
        for chat in chats:
            while True:
                asked = time.time()
                booked, wait = limiter.reserve(chat)
                if booked:
                    with lock:
                        slots.append((chat, asked + wait))
                    break
                time.sleep(wait)

    threads = [
        threading.Thread(target=book, args=(limiter, [1, *range(10 * n, 10 * n + 6)]))
        for n, limiter in enumerate(limiters, start=1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(slots) == 21
    times = sorted(moment for _chat, moment in slots)
    # 1/20 s apart (give or take the time to ask), one chat at most once a second.
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.025
    assert times[-1] - times[0] >= 0.95 * 20 / 20
    chat_times = sorted(moment for chat, moment in slots if chat == 1)
    assert min(b - a for a, b in itertools.pairwise(chat_times)) >= 0.95


def test_the_answer_model_is_built_once_and_kept(telegram_peer, kind_templates, linked):
    """aiogram reads each answer as Response[Message], which pydantic caches only weakly: the
    sender keeps it, so the garbage collector cannot make the next send rebuild it."""
    import gc
    import weakref

    from aiogram.methods.base import Response
    from aiogram.types import Message as TelegramMessage

    TelegramSender().send(_message(linked))
    kept = weakref.ref(Response[TelegramMessage])
    gc.collect()
    assert kept() is not None
    assert telegram_api.response_type(TelegramMessage) is kept()
    TelegramSender().send(_message(linked))
    assert Response[TelegramMessage] is kept()


def test_a_live_rate_change_in_this_process_reaches_the_limiter_at_once(db, settings):
    from parta.common.live import live_prime

    settings.PARTA_TELEGRAM_RATE = 25
    assert telegram_api._limits()[0] == 25
    live_prime({"TELEGRAM_RATE": 7})
    assert telegram_api._limits()[0] == 7
    settings.PARTA_TELEGRAM_RATE = 30  # the default changes too, when nothing is stored
    live_prime({})
    assert telegram_api._limits()[0] == 30


def test_another_process_s_rate_change_reaches_the_limiter_within_a_second(db, settings):
    from django.core.cache import cache

    from parta.common.live import CACHE_KEY, live_prime

    settings.PARTA_TELEGRAM_RATE = 25
    live_prime({})
    assert telegram_api._limits()[0] == 25
    # What another process's change leaves here: the shared entry, no local signal.
    cache.set(CACHE_KEY, {"TELEGRAM_RATE": 9})
    assert telegram_api._limits()[0] == 25  # this process's copy, for under a second
    time.sleep(telegram_api.LIMITS_SECONDS + 0.05)
    assert telegram_api._limits()[0] == 9
