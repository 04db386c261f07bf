"""The groups pages of the workspace, the student's group on the course page and the
fill on the course figures page: who may see them, what they show, forms with clear
errors, and query counts that do not grow with groups or students."""

import pytest
from django.urls import reverse

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.queries import count_queries
from parta.groups.models import Group, Membership
from parta.groups.services import group_update, membership_place

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client, settings):
    settings.PARTA_GROUPS_BATCH = 2
    client.cookies["django_language"] = "en"


@pytest.fixture
def course():
    return CourseFactory(slug="algebra", title="Алгебра", max_group_size=2)


def place(course, **fields):
    student = UserFactory(**fields)
    membership_place(student=student, course_id=course.pk)
    return student


def group(course, number):
    return Group.objects.get(course=course, number=number)


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content[:300]
    return response.content.decode()


def test_only_moderators_and_staff_open_the_groups_pages(client, course):
    place(course)
    urls = [
        reverse("groups:course-groups", args=[course.pk]),
        reverse("groups:group", args=[group(course, 1).pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # sign in first
    client.force_login(UserFactory())
    for url in urls:
        assert client.get(url).status_code == 403
    for factory in (ModeratorFactory, StaffFactory):
        client.force_login(factory())
        for url in urls:
            assert client.get(url).status_code == 200
    assert client.get(reverse("groups:group", args=[10**9])).status_code == 404
    assert client.get(reverse("groups:course-groups", args=[10**9])).status_code == 404


def test_the_course_page_lists_groups_with_teacher_and_fill(client, course):
    for _ in range(3):
        place(course)
    teacher = ModeratorFactory(full_name="Мария Учителева")
    group_update(group=group(course, 1), by=teacher, name="Утро", teacher=teacher)
    client.force_login(ModeratorFactory())
    html = get(client, reverse("groups:course-groups", args=[course.pk]))
    assert "Утро" in html
    assert "Мария Учителева" in html
    assert "Group 2" in html
    assert "2 of 2" in html
    assert "1 of 2" in html
    assert "2 groups · 3 students · full: 1" in " ".join(html.split())


def test_the_course_page_in_russian(client, course):
    place(course)
    client.cookies["django_language"] = "ru"
    client.force_login(ModeratorFactory())
    html = get(client, reverse("groups:course-groups", args=[course.pk]))
    assert "Учебные группы" in html
    assert "Группа 1" in html


def test_group_size_is_saved_or_refused_with_a_message(client, course):
    url = reverse("groups:course-groups", args=[course.pk])
    client.force_login(ModeratorFactory())
    for bad in ("0", "abc", "1001", ""):
        response = client.post(url, {"max_group_size": bad})
        assert response.status_code == 400
        assert 'class="errorlist' in response.content.decode()
    course.refresh_from_db()
    assert course.max_group_size == 2
    response = client.post(url, {"max_group_size": "5"})
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.max_group_size == 5


def test_pages_read_a_fixed_number_of_queries(client, course):
    client.force_login(StaffFactory())
    place(course)
    urls = {
        "course": reverse("groups:course-groups", args=[course.pk]),
        "group": reverse("groups:group", args=[group(course, 1).pk]),
        "figures": reverse("learning:course-figures", args=[course.slug]),
    }

    def counts() -> dict[str, int]:
        found = {}
        for name, url in urls.items():
            with count_queries() as queries:
                get(client, url)
            found[name] = len(queries)
        return found

    few = counts()
    teacher = ModeratorFactory()
    for _ in range(15):
        place(course)
    for g in Group.objects.filter(course=course):
        group_update(group=g, by=teacher, name="", teacher=teacher)
    Membership.objects.filter(group__number=1).update(placed_by=teacher)
    assert Group.objects.filter(course=course).count() == 8
    assert counts() == few
    # Session and user, the header's bell and the moderators' inbox count (chat), then the
    # page's own reads (the figures page has its six).
    assert few == {"course": 6, "group": 9, "figures": 12}


def test_rename_and_teacher_on_the_group_page(client, course):
    place(course)
    place(course)
    place(course)
    first, second = group(course, 1), group(course, 2)
    teacher = ModeratorFactory(full_name="Иван Преподаватель")
    client.force_login(ModeratorFactory())
    url = reverse("groups:group", args=[first.pk])
    response = client.post(url, {"name": "Вечерняя", "teacher": teacher.pk})
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.name, first.teacher) == ("Вечерняя", teacher)
    assert "Иван Преподаватель" in get(client, url)
    # The same name for another group, and a student as the teacher: clear errors.
    response = client.post(
        reverse("groups:group", args=[second.pk]),
        {"name": "вечерняя", "teacher": UserFactory().pk},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice" in html
    response = client.post(reverse("groups:group", args=[second.pk]), {"name": "вечерняя"})
    assert response.status_code == 400
    assert "Another group of this course already has this name." in response.content.decode()
    second.refresh_from_db()
    assert second.name == ""


def test_a_moderator_moves_a_student_and_is_refused_a_full_group(client, course):
    ann = place(course, full_name="Анна Первая")
    place(course)
    bob = place(course, full_name="Борис Второй")
    first, second = group(course, 1), group(course, 2)
    client.force_login(ModeratorFactory())
    html = get(client, reverse("groups:group", args=[second.pk]))
    assert "Move even if that group is full" not in html  # staff only
    assert "Group 1 — 2 of 2 (full)" in html
    move = reverse("groups:group-move", args=[second.pk])
    response = client.post(move, {"student": bob.pk, "target": first.pk, "override": "on"})
    assert response.status_code == 409
    assert "Group 1 is full: 2 of 2 seats are taken." in response.content.decode()
    assert Membership.objects.get(student=bob, ended_at=None).group == second
    # A student of another group, or a group of another course, is not a choice.
    other = CourseFactory()
    membership_place(student=UserFactory(), course_id=other.pk)
    response = client.post(move, {"student": ann.pk, "target": group(other, 1).pk})
    assert response.status_code == 400
    # Into a group with a seat: moved.
    move_first = reverse("groups:group-move", args=[first.pk])
    response = client.post(move_first, {"student": ann.pk, "target": second.pk})
    assert response.status_code == 302
    assert Membership.objects.get(student=ann, ended_at=None).group == second
    assert "Анна Первая is now in Group 2." in get(
        client, reverse("groups:group", args=[first.pk])
    )


def test_staff_move_into_a_full_group_with_the_confirmation(client, course):
    place(course)
    place(course)
    bob = place(course)
    first, second = group(course, 1), group(course, 2)
    client.force_login(StaffFactory())
    move = reverse("groups:group-move", args=[second.pk])
    response = client.post(move, {"student": bob.pk, "target": first.pk})
    assert response.status_code == 409
    assert "by confirming" in response.content.decode()
    response = client.post(move, {"student": bob.pk, "target": first.pk, "override": "on"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.members_count == 3
    html = get(client, reverse("groups:group", args=[first.pk]))
    assert "over the limit" in html
    history = get(client, reverse("groups:group", args=[second.pk]))
    assert "Moved to another group" in history


def test_a_student_sees_their_group_and_teacher_on_the_course_page(client, course):
    from parta.access.models import GrantSource
    from parta.access.services import access_grant_create

    classmate = UserFactory(full_name="Соседка По Группе", email="classmate@example.com")
    access_grant_create(user=classmate, course=course, source=GrantSource.MANUAL)
    me = UserFactory()
    access_grant_create(user=me, course=course, source=GrantSource.MANUAL)
    teacher = ModeratorFactory(full_name="Мария Учителева", email="maria@example.com")
    group_update(group=group(course, 1), by=teacher, name="Утро", teacher=teacher)
    client.force_login(me)
    html = get(client, reverse("learning:course", args=[course.slug]))
    assert "Your group:" in html
    assert "Утро" in html
    assert "Мария Учителева" in html
    # No one else's contacts, not even the teacher's.
    for hidden in ("Соседка По Группе", "classmate@example.com", "maria@example.com"):
        assert hidden not in html
    # Not placed (no access): no group line.
    client.force_login(UserFactory())
    assert "Your group:" not in get(client, reverse("learning:course", args=[course.slug]))


def test_the_figures_page_shows_the_fill(client, course):
    for _ in range(3):
        place(course)
    client.force_login(ModeratorFactory())
    html = " ".join(get(client, reverse("learning:course-figures", args=[course.slug])).split())
    assert "2 groups · 3 students placed · full: 1 · a group takes 2" in html
    assert reverse("groups:course-groups", args=[course.pk]) in html
