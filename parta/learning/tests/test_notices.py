"""A new topic opening in a course you have: told once per topic and student, by a beat
task that may run any number of times."""

from datetime import timedelta

import pytest
from django.utils import timezone

from parta.access.models import GrantSource
from parta.access.services import access_grant_create
from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import CourseFactory, TopicFactory
from parta.learning.notices import topics_opened_notify
from parta.learning.tasks import notify_topics_opened
from parta.notifications.models import Message
from parta.notifications.rendering import render_message

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _no_delivery_yet(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        yield


def _grant(user, course, **extra):
    return access_grant_create(
        user=user,
        course=course,
        source=GrantSource.MANUAL,
        starts_at=timezone.now() - 10 * DAY,
        **extra,
    )


def test_topic_opened_once_per_topic_and_student_whatever_reruns():
    now = timezone.now()
    course = CourseFactory(title="Алгебра", is_published=True)
    other_course = CourseFactory(is_published=True)
    with_access, without, expired = UserFactory(), UserFactory(), UserFactory()
    _grant(with_access, course)
    _grant(with_access, course, note="a second grant for the same course")
    _grant(without, other_course)
    _grant(expired, course, available_until=now - DAY)
    topic = TopicFactory(course=course, title="Логарифмы", opens_at=now - timedelta(hours=1))
    TopicFactory(course=course, opens_at=now + DAY)  # not open yet
    TopicFactory(course=course, opens_at=now - 30 * DAY)  # opened long ago
    TopicFactory(course=course, opens_at=None)  # open from the start: nothing "opened"
    notify_topics_opened()
    notify_topics_opened()
    topics_opened_notify(now=now + timedelta(minutes=5))
    rows = Message.objects.filter(kind="topic_opened")
    assert set(rows.values_list("user_id", flat=True)) == {with_access.pk}
    assert sorted(rows.values_list("channel", flat=True)) == ["email", "site", "telegram"]
    assert {row.dedup_key for row in rows} == {f"topic_opened:{topic.pk}"}
    context = rows.first().context
    with_access.language = "ru"
    ru = render_message(user=with_access, kind="topic_opened", context=context)
    assert ru.subject == "Новая тема: Логарифмы"
    assert "В курсе «Алгебра» открылась новая тема: Логарифмы." in ru.text
    with_access.language = "en"
    en = render_message(user=with_access, kind="topic_opened", context=context)
    assert en.subject == "New topic: Логарифмы"


def test_topic_of_an_unpublished_course_is_not_told():
    course = CourseFactory(is_published=False)
    _grant(UserFactory(), course)
    TopicFactory(course=course, opens_at=timezone.now() - timedelta(hours=1))
    assert topics_opened_notify() == 0
    assert not Message.objects.exists()
