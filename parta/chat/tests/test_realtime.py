"""The chat's websocket through the whole ASGI application (config.asgi: allowed origins,
session cookie, routing, the consumer) with channels' WebsocketCommunicator: a message
announced by ``realtime.message_posted`` reaches the sockets of those who may see the
thread, rendered for each of them, and nobody else's; a private note never travels.

In-memory channel layer here; the same on a real Redis at the end (skipped without
REDIS_URL). Each scenario runs in one event loop (``async_to_sync``) in a thread of its
own, where the consumer's database work runs too, so the tests commit
(``transaction=True``)."""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import threading
import time
import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from config.asgi import application
from config.settings import channels as channel_settings
from parta.accounts.models import Role
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.tests.factories import TaskFactory
from parta.chat import realtime, services
from parta.chat.models import ChatMessage, Thread, ThreadKind, ThreadNote, ThreadState

pytestmark = pytest.mark.django_db(transaction=True)

MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.fixture(autouse=True)
def _memory_layer(settings):
    settings.CHANNEL_LAYERS = MEMORY_LAYER


def run_async(scenario, *args):
    """``scenario(*args)`` run to its end in a thread of its own: the test's thread may run
    an event loop already (Playwright's, once a browser test has run), where async_to_sync
    may not. The scenario's synchronous database work runs in that thread too, on its own
    connection (the tests commit), closed at the end."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = async_to_sync(scenario)(*args)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    worker = threading.Thread(target=run, name="scenario")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def open_socket(path: str, user=None, *, origin=ORIGIN, language=None) -> WebsocketCommunicator:
    headers = [origin] if origin else []
    cookies = [session_cookie(user)] if user is not None else []
    if language:
        cookies.append(f"{settings.LANGUAGE_COOKIE_NAME}={language}")
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def thread_path(thread: Thread) -> str:
    return f"/ws/chat/threads/{thread.pk}/"


def make_thread(student, **fields) -> Thread:
    task = TaskFactory()
    return Thread.objects.create(
        kind=ThreadKind.TASK,
        student=student,
        task=task,
        course=task.topic.course,
        subject=task.title,
        **fields,
    )


def write(thread: Thread, author, text: str) -> ChatMessage:
    """A stored message, announced the way chat's services do on commit."""
    message = ChatMessage.objects.create(
        thread=thread, author=author, from_staff=not author.is_student, text=text
    )
    realtime.message_posted(message)
    return message


async def accepted(socket: WebsocketCommunicator) -> None:
    connected, _ = await socket.connect()
    assert connected


async def refused_with(socket: WebsocketCommunicator) -> int:
    """The handshake is accepted, then the socket is closed at once: with which code."""
    connected, _ = await socket.connect()
    assert connected
    closing = await socket.receive_output(timeout=2)
    assert closing["type"] == "websocket.close"
    return closing["code"]


def test_the_student_and_the_moderators_get_each_new_message_once_rendered_for_them():
    student, moderator, staff = UserFactory(), ModeratorFactory(), StaffFactory()
    thread = make_thread(student)

    sockets = [open_socket(thread_path(thread), who) for who in (student, moderator, staff)]

    async def scenario():
        for sock in sockets:
            await accepted(sock)
        reply = await sync_to_async(write)(thread, moderator, "See <b>step 2</b>\nthen 3")
        for sock in sockets:
            event = await sock.receive_json_from(timeout=2)
            assert set(event) == {"type", "id", "html"}
            assert event["type"] == "message"
            assert event["id"] == reply.pk
            html = event["html"]
            assert html.lstrip().startswith("<li")
            assert f'id="message-{reply.pk}"' in html
            assert f'data-id="{reply.pk}"' in html
            # Text is escaped, never rendered.
            assert "<b>" not in html
            assert "See &lt;b&gt;step 2&lt;/b&gt;" in html
            assert await sock.receive_nothing(timeout=0.2)
        question = await sync_to_async(write)(thread, student, "Thanks, and step 4?")
        for sock in sockets:
            event = await sock.receive_json_from(timeout=2)
            assert event["id"] == question.pk
            assert "Thanks, and step 4?" in event["html"]
        for sock in sockets:
            await sock.disconnect()

    run_async(scenario)


def test_a_reply_posted_through_chats_service_reaches_the_open_pages_on_commit():
    student, moderator = UserFactory(), ModeratorFactory()
    thread = Thread.objects.create(kind=ThreadKind.SUPPORT, student=student, subject="Оплата")
    sockets = [open_socket(thread_path(thread), who) for who in (student, moderator)]

    async def scenario():
        for sock in sockets:
            await accepted(sock)
        reply = await sync_to_async(services.message_post)(
            thread=thread, author=moderator, text="Оплатить можно картой."
        )
        for sock in sockets:
            event = await sock.receive_json_from(timeout=2)
            assert event["id"] == reply.pk
            assert "Оплатить можно картой." in event["html"]
        # A resent form (the same client key) stores nothing new and announces nothing.
        first = await sync_to_async(services.message_post)(
            thread=thread, author=student, text="Спасибо!", client_key="k-1"
        )
        again = await sync_to_async(services.message_post)(
            thread=thread, author=student, text="Спасибо!", client_key="k-1"
        )
        assert again.pk == first.pk
        for sock in sockets:
            assert (await sock.receive_json_from(timeout=2))["id"] == first.pk
            assert await sock.receive_nothing(timeout=0.3)
            await sock.disconnect()

    run_async(scenario)


def test_each_viewer_gets_the_html_the_template_renders_for_them():
    student, moderator = UserFactory(), ModeratorFactory()
    thread = make_thread(student)

    mine = open_socket(thread_path(thread), student)
    theirs = open_socket(thread_path(thread), moderator)

    async def scenario():
        await accepted(mine)
        await accepted(theirs)
        message = await sync_to_async(write)(thread, student, "my own words")
        for_student = (await mine.receive_json_from(timeout=2))["html"]
        for_moderator = (await theirs.receive_json_from(timeout=2))["html"]

        def render(viewer):
            # The page's language: the school's default, as no language cookie was sent.
            with translation.override(settings.LANGUAGE_CODE):
                return render_to_string(
                    "chat/_message.html",
                    {"message": ChatMessage.objects.get(pk=message.pk), "viewer": viewer},
                )

        expected = sync_to_async(render)
        assert for_student == await expected(student)
        assert for_moderator == await expected(moderator)
        await mine.disconnect()
        await theirs.disconnect()

    run_async(scenario)


def test_a_socket_signed_out_or_no_longer_a_moderators_gets_nothing_more():
    student, moderator, staff = UserFactory(), ModeratorFactory(), StaffFactory()
    thread = make_thread(student)
    browser = Client()
    browser.force_login(student)
    name = settings.SESSION_COOKIE_NAME
    cookie = f"{name}={browser.cookies[name].value}"
    signed_out = WebsocketCommunicator(
        application, thread_path(thread), headers=[ORIGIN, (b"cookie", cookie.encode())]
    )
    demoted = open_socket(thread_path(thread), moderator)
    staying = open_socket(thread_path(thread), staff)

    async def scenario():
        for sock in (signed_out, demoted, staying):
            await accepted(sock)
        await sync_to_async(browser.logout)()
        moderator.role = Role.STUDENT
        await sync_to_async(moderator.save)()
        reply = await sync_to_async(write)(thread, staff, "only for those still allowed")
        for sock in (signed_out, demoted):
            closing = await sock.receive_output(timeout=2)
            assert closing == {"type": "websocket.close", "code": 4403}
        assert (await staying.receive_json_from(timeout=2))["id"] == reply.pk
        await staying.disconnect()

    run_async(scenario)


def test_another_student_is_refused_with_4403_and_gets_nothing():
    student, stranger = UserFactory(), UserFactory()
    thread = make_thread(student)

    own = open_socket(thread_path(thread), student)
    peeking = open_socket(thread_path(thread), stranger)
    moderator = ModeratorFactory()

    async def scenario():
        await accepted(own)
        assert await refused_with(peeking) == 4403
        await sync_to_async(write)(thread, moderator, "for the student only")
        assert (await own.receive_json_from(timeout=2))["type"] == "message"
        # The refused socket is closed and was never in the thread's group.
        assert await peeking.receive_nothing(timeout=0.2)
        await own.disconnect()

    run_async(scenario)


def test_an_anonymous_visitor_is_refused_with_4403():
    thread = make_thread(UserFactory())

    anonymous = open_socket(thread_path(thread))

    async def scenario():
        assert await refused_with(anonymous) == 4403

    run_async(scenario)


def test_a_deactivated_student_and_a_missing_thread_are_refused():
    student = UserFactory()
    thread = make_thread(student)
    sock_missing = open_socket(f"/ws/chat/threads/{thread.pk + 1000}/", ModeratorFactory())
    gone = open_socket(thread_path(thread), student)
    student.is_active = False
    student.save()

    async def scenario():
        assert await refused_with(sock_missing) == 4403
        assert await refused_with(gone) == 4403

    run_async(scenario)


def test_a_private_note_never_reaches_a_socket():
    student, moderator = UserFactory(), ModeratorFactory()
    thread = make_thread(student)

    sockets = [open_socket(thread_path(thread), who) for who in (student, moderator)]

    async def scenario():
        for sock in sockets:
            await accepted(sock)
        note = await sync_to_async(ThreadNote.objects.create)(
            thread=thread, author=moderator, text="the student copies answers"
        )
        # Handed to the publisher by mistake: refused, nothing sent.
        await sync_to_async(realtime.message_posted)(note)
        # An event naming the note's id: the socket loads messages only, none has it.
        assert not await sync_to_async(ChatMessage.objects.filter(pk=note.pk).exists)()
        await get_channel_layer().group_send(
            realtime.thread_group(thread.pk), {"type": "chat.message", "message_id": note.pk}
        )
        for sock in sockets:
            assert await sock.receive_nothing(timeout=0.3)
            await sock.disconnect()

    run_async(scenario)


def test_a_message_of_another_thread_is_never_rendered_into_this_one():
    student, other = UserFactory(), UserFactory()
    thread, elsewhere = make_thread(student), make_thread(other)
    foreign = ChatMessage.objects.create(thread=elsewhere, author=other, text="private to other")

    sock = open_socket(thread_path(thread), student)

    async def scenario():
        await accepted(sock)
        await get_channel_layer().group_send(
            realtime.thread_group(thread.pk), {"type": "chat.message", "message_id": foreign.pk}
        )
        await get_channel_layer().group_send(
            realtime.thread_group(thread.pk), {"type": "chat.message", "message_id": "1; --"}
        )
        assert await sock.receive_nothing(timeout=0.3)
        await sock.disconnect()

    run_async(scenario)


def test_what_the_page_sends_is_ignored_and_a_closed_socket_leaves_the_group():
    student = UserFactory()
    thread = make_thread(student)

    sock = open_socket(thread_path(thread), student)

    async def scenario():
        await accepted(sock)
        await sock.send_to(text_data=json.dumps({"type": "chat.message", "message_id": 1}))
        await sock.send_to(text_data="not json")
        assert await sock.receive_nothing(timeout=0.2)
        await sock.disconnect()
        layer = get_channel_layer()
        assert realtime.thread_group(thread.pk) not in layer.groups

    run_async(scenario)


def test_sockets_from_other_sites_other_paths_and_huge_ids_are_refused_at_the_handshake():
    student = UserFactory()
    thread = make_thread(student)

    sockets = [
        open_socket(thread_path(thread), student, origin=(b"origin", b"https://evil.example")),
        open_socket(thread_path(thread), student, origin=None),
        open_socket("/ws/chat/threads/abc/", student),
        open_socket("/ws/chat/threads/99999999999999999999/", student),
        open_socket("/ws/elsewhere/", student),
    ]

    async def scenario():
        for sock in sockets:
            connected, _ = await sock.connect()
            assert not connected

    run_async(scenario)


def test_the_page_gets_its_own_language():
    student = UserFactory()
    thread = make_thread(student, state=ThreadState.AWAITING_MODERATOR)
    message = ChatMessage.objects.create(thread=thread, author=student, text="?")

    async def scenario(sock):
        await accepted(sock)
        await get_channel_layer().group_send(
            realtime.thread_group(thread.pk), {"type": "chat.message", "message_id": message.pk}
        )
        html = (await sock.receive_json_from(timeout=2))["html"]
        await sock.disconnect()
        return html

    for language in ("ru", "en"):
        with translation.override(language):
            expected = render_to_string(
                "chat/_message.html", {"message": message, "viewer": student}
            )
        sock = open_socket(thread_path(thread), student, language=language)
        assert run_async(scenario, sock) == expected


class SilentServer:
    """A TCP server on loopback that accepts connections and never answers: a Redis that
    hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.clients = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.clients.append(conn)

    def close(self):
        for conn in self.clients:
            conn.close()
        self.sock.close()


def redis_layer(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": url, "socket_connect_timeout": 1}],
                "prefix": f"parta-ws-test-{uuid.uuid4().hex[:8]}",
            },
        }
    }


def test_a_failing_channel_layer_never_reaches_the_poster(settings):
    """Redis refusing connections, or accepting and never answering: message_posted
    returns within its timeout, the message stays stored."""
    student = UserFactory()
    thread = make_thread(student)
    settings.PARTA_CHANNELS_SEND_TIMEOUT = 0.5
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    silent = SilentServer()
    try:
        for port in (closed_port, silent.port):
            settings.CHANNEL_LAYERS = redis_layer(f"redis://127.0.0.1:{port}/0")
            started = time.monotonic()
            message = write(thread, student, f"stored whatever port {port} does")
            assert time.monotonic() - started < 2.5
            assert ChatMessage.objects.filter(pk=message.pk).exists()
    finally:
        silent.close()


def test_nothing_is_published_without_a_channel_layer(settings):
    settings.CHANNEL_LAYERS = {}
    student = UserFactory()
    message = write(make_thread(student), student, "no layer configured")
    assert ChatMessage.objects.filter(pk=message.pk).exists()


def parta_redis_layer() -> dict:
    """The channel layer Parta's settings configure with REDIS_URL, under a prefix of its
    own."""
    layers = copy.deepcopy(channel_settings.CHANNEL_LAYERS)
    assert layers["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    layers["default"]["CONFIG"]["prefix"] = f"parta-ws-test-{uuid.uuid4().hex[:8]}"
    return layers


needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis; set REDIS_URL")


@needs_redis
def test_on_redis_the_student_gets_the_reply_and_a_stranger_nothing(settings):
    settings.CHANNEL_LAYERS = parta_redis_layer()
    student, moderator, stranger = UserFactory(), ModeratorFactory(), UserFactory()
    thread, other_thread = make_thread(student), make_thread(stranger)

    own = open_socket(thread_path(thread), student)
    elsewhere = open_socket(thread_path(other_thread), stranger)

    async def scenario():
        await accepted(own)
        await accepted(elsewhere)
        reply = await sync_to_async(write)(thread, moderator, "через Redis")
        event = await own.receive_json_from(timeout=3)
        assert event["type"] == "message"
        assert event["id"] == reply.pk
        assert "через Redis" in event["html"]
        assert await own.receive_nothing(timeout=0.3)
        assert await elsewhere.receive_nothing(timeout=0.1)
        await own.disconnect()
        await elsewhere.disconnect()

    run_async(scenario)


@needs_redis
def test_on_redis_an_idle_socket_outlives_the_layers_blocking_wait(settings):
    """channels-redis waits for events with a 5-second blocking pop; redis-py 8 reads
    time out after 5 seconds by default, which would tear every idle socket down."""
    settings.CHANNEL_LAYERS = parta_redis_layer()
    student, moderator = UserFactory(), ModeratorFactory()
    thread = make_thread(student)
    sock = open_socket(thread_path(thread), student)

    async def scenario():
        await accepted(sock)
        await asyncio.sleep(6.5)
        assert await sock.receive_nothing(timeout=0.1)
        reply = await sync_to_async(write)(thread, moderator, "после паузы")
        assert (await sock.receive_json_from(timeout=3))["id"] == reply.pk
        await sock.disconnect()

    run_async(scenario)
