import pytest

from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.notifications.demo import seed_bell
from parta.notifications.models import Message
from parta.notifications.selectors import bell_items, site_messages, unread_count

pytestmark = pytest.mark.django_db


def test_demo_student_has_notifications_in_the_bell_once():
    student = UserFactory()
    course = CourseFactory(title="Математика", price_amount=299000)
    assert seed_bell(student=student, course=course) == 3
    assert seed_bell(student=student, course=course) == 0
    assert Message.objects.filter(user=student).count() == 3
    assert unread_count(user=student) == 2
    items = bell_items(user=student, messages=site_messages(user=student))
    assert [item.kind for item in items] == ["access_ending", "topic_opened", "receipt"]
    assert "Total: ₽2,691" in items[2].text
