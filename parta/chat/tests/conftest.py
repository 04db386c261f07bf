"""Fixtures for chat: a course with a task, a student with access who has answered it
wrongly often enough to ask, and the school's people."""

from __future__ import annotations

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
