"""Fixtures for chat: a course with a task, a student with access who has answered it
wrongly often enough to ask, and the school's people."""

from __future__ import annotations

import threading
import time

import pytest

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.bot.tests.conftest import run_bot  # noqa: F401  (the real dispatcher on the fake API)
from parta.catalog.tests.factories import CourseFactory, TaskFactory, TopicFactory
from parta.learning.services import task_answer_submit


@pytest.fixture
def course(db):
    return CourseFactory(slug="algebra", title="Алгебра")


@pytest.fixture
def task(course):
    return TaskFactory(topic=TopicFactory(course=course), title="Шесть на семь", answer_text="42")


@pytest.fixture
def student(course):
    user = UserFactory(email="learner@example.com", full_name="Ученица Учёная", language="en")
    AccessGrantFactory(user=user, course=course)
    return user


@pytest.fixture
def moderator(db):
    return ModeratorFactory(email="teacher@example.com", full_name="Мария Ивановна")


@pytest.fixture
def staff(db):
    return StaffFactory(email="owner@example.com", full_name="Owner")


def answer_wrongly(user, task, times: int = 3) -> None:
    for n in range(times):
        task_answer_submit(user=user, task=task, data={"answer": f"wrong {n}"})


@pytest.fixture
def asker(student, task):
    """The student, with three wrong answers to ``task``: allowed to ask."""
    answer_wrongly(student, task)
    return student


# --- uvicorn serving config.asgi for the browser tests ------------------------------------


class ThreadedServer:
    """uvicorn serving config.asgi in a thread; stop() and start() again on the same port."""

    def __init__(self, port: int):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        import uvicorn

        from config.asgi import application

        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        assert not self.thread.is_alive()


@pytest.fixture
def asgi_server(settings, monkeypatch):
    from asgiref.sync import SyncToAsync
    from django.db import connections

    from parta.common.testing.processes import free_port

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Each request runs in a thread of its own: its connection is closed when it ends (the
    # production server pools them instead, see config/asgi.py).
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)
    server = ThreadedServer(free_port())
    server.start()
    yield server
    if server.thread.is_alive():
        server.stop()
    # The sockets' database work ran in asgiref's one shared thread (channels runs it
    # outside any request's context): its connection is closed there, so that the test
    # database can be dropped.
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
