"""Course figures for moderators and staff: who may see them, what they count, and a
query count that does not grow with the number of students."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory, TaskFactory, TopicFactory
from parta.common.testing.queries import count_queries
from parta.common.time import school_today
from parta.learning.models import DailyActivity, TaskProgress
from parta.learning.selectors import course_figures

pytestmark = pytest.mark.django_db


def progress(user, task, *, solved: bool, wrong: int = 0):
    return TaskProgress.objects.create(
        user=user,
        task=task,
        course=task.topic.course,
        attempts=wrong + (1 if solved else 0),
        wrong_attempts=wrong,
        solved_at=timezone.now() if solved else None,
    )


@pytest.fixture
def course():
    return CourseFactory(slug="algebra")


def test_only_moderators_and_staff_see_them(client, course):
    url = reverse("learning:course-figures", args=[course.slug])
    assert client.get(url).status_code == 302
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    for factory in (ModeratorFactory, StaffFactory):
        client.force_login(factory())
        assert client.get(url).status_code == 200
    assert client.get(reverse("learning:course-figures", args=["no-such"])).status_code == 404


def test_what_they_count(course):
    first, second = (
        TopicFactory(course=course, position=1),
        TopicFactory(course=course, position=2),
    )
    easy, hard = TaskFactory(topic=first), TaskFactory(topic=first)
    later = TaskFactory(topic=second)
    ann, bob, cid = UserFactory(), UserFactory(), UserFactory()
    AccessGrantFactory(user=ann, course=course)
    AccessGrantFactory(user=bob, course=course)
    AccessGrantFactory(
        user=cid,
        course=course,
        starts_at=timezone.now() - timedelta(days=40),
        available_until=timezone.now() - timedelta(days=10),
    )
    for student in (ann, bob, cid):
        progress(student, easy, solved=True)
    progress(ann, hard, solved=True, wrong=4)
    progress(bob, hard, solved=False, wrong=2)
    progress(cid, hard, solved=False, wrong=1)
    moderator = ModeratorFactory()
    progress(moderator, later, solved=True)  # a moderator trying tasks does not count
    today = school_today()
    DailyActivity.objects.create(
        user=ann, course=course, day=today, correct_answers=2, tasks_solved=2
    )
    DailyActivity.objects.create(
        user=bob, course=course, day=today - timedelta(days=20), correct_answers=1, tasks_solved=1
    )
    DailyActivity.objects.create(
        user=moderator, course=course, day=today, correct_answers=1, tasks_solved=1
    )

    figures = course_figures(course=course)
    assert figures.students_with_access == 2  # cid's access has ended
    assert figures.learners == 3
    assert figures.active_this_week == 1
    assert figures.solved_total == 4
    assert figures.activity[-1] == (today, 2)
    assert sum(figures.activity_values) == 3
    assert [(t.tasks, round(t.solved_share, 2)) for t in figures.topics] == [(2, 0.67), (1, 0.0)]
    assert [(t.task_id, t.students, t.solved, t.wrong_attempts) for t in figures.hardest] == [
        (hard.id, 3, 1, 7),
        (easy.id, 3, 3, 0),
    ]


def test_page_queries_do_not_grow_with_students(client, course):
    task = TaskFactory(topic=TopicFactory(course=course))
    client.force_login(ModeratorFactory())
    url = reverse("learning:course-figures", args=[course.slug])

    def render() -> int:
        with count_queries() as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries)

    few = render()
    for i in range(30):
        student = UserFactory()
        AccessGrantFactory(user=student, course=course)
        progress(student, task, solved=i % 2 == 0, wrong=i % 3)
    html = client.get(url).content.decode()
    assert 'id="activity-chart"' in html
    assert task.title in html  # answered by 30 students: among the hardest
    assert render() == few


def test_the_workspace_links_to_them(client, course):
    client.force_login(ModeratorFactory())
    html = client.get(reverse("catalog:workspace-course", args=[course.pk])).content.decode()
    assert reverse("learning:course-figures", args=[course.slug]) in html
