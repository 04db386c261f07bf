from datetime import timedelta

import pytest
from django.utils import timezone

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import CourseFactory, TaskFactory, TopicFactory


@pytest.fixture
def course(db):
    return CourseFactory(slug="algebra", title="Алгебра")


@pytest.fixture
def topic(course):
    return TopicFactory(course=course, title="Уравнения")


@pytest.fixture
def task(topic):
    return TaskFactory(topic=topic, title="Шесть на семь", answer_text="42")


@pytest.fixture
def student(course):
    """A student with open-ended access to ``course``."""
    user = UserFactory(email="learner@example.com", full_name="Ученица Учёная")
    AccessGrantFactory(user=user, course=course)
    return user


@pytest.fixture
def outsider(db):
    return UserFactory(email="outsider@example.com")


@pytest.fixture
def expired_student(course):
    user = UserFactory(email="expired@example.com")
    AccessGrantFactory(
        user=user,
        course=course,
        starts_at=timezone.now() - timedelta(days=30),
        available_until=timezone.now() - timedelta(days=1),
    )
    return user
