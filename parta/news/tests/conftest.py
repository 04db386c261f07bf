import pytest

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory


@pytest.fixture
def moderator(db):
    return ModeratorFactory()


@pytest.fixture
def course(db):
    return CourseFactory(title="Algebra", slug="algebra")


@pytest.fixture
def other_course(db):
    return CourseFactory(title="Geometry", slug="geometry")


@pytest.fixture
def student(course):
    user = UserFactory(email="ann@example.com")
    AccessGrantFactory(user=user, course=course)
    return user


@pytest.fixture
def other_student(other_course):
    user = UserFactory(email="bob@example.com")
    AccessGrantFactory(user=user, course=other_course)
    return user


@pytest.fixture
def no_delivery(django_capture_on_commit_callbacks):
    """Commits in the test do not start the outbox's delivery (or a broadcast task):
    tests call the steps themselves."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        yield callbacks
