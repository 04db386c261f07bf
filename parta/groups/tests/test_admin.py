"""Groups in the admin: fill per group, renames through the service, no way to edit seat
counts or memberships by hand."""

import pytest
from django.urls import reverse

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.groups.models import Group, Membership
from parta.groups.services import membership_place

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    client.cookies["django_language"] = "en"
    return client


def test_the_list_shows_fill_and_the_form_renames_through_the_service(staff_client, settings):
    settings.PARTA_GROUPS_BATCH = 2
    course = CourseFactory(max_group_size=2)
    for _ in range(3):
        membership_place(student=UserFactory(), course_id=course.pk)
    html = staff_client.get(reverse("admin:groups_group_changelist")).content.decode()
    assert "2 / 2" in html
    assert "1 / 2" in html
    first = Group.objects.get(course=course, number=1)
    url = reverse("admin:groups_group_change", args=[first.pk])
    page = staff_client.get(url).content.decode()
    assert "students now" in page.lower()
    teacher = ModeratorFactory()
    current = Membership.objects.filter(group=first, ended_at=None).order_by("-started_at", "-id")
    inline = {
        "memberships-TOTAL_FORMS": len(current),
        "memberships-INITIAL_FORMS": len(current),
        **{f"memberships-{i}-id": m.pk for i, m in enumerate(current)},
        **{f"memberships-{i}-group": first.pk for i, _m in enumerate(current)},
    }
    # A members_count sent along is ignored: it is not a field of the form.
    response = staff_client.post(
        url, {"name": "Утро", "teacher": teacher.pk, "members_count": 0, **inline}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    first.refresh_from_db()
    assert (first.name, first.teacher, first.members_count) == ("Утро", teacher, 2)
    # A student is not offered as a teacher.
    response = staff_client.post(url, {"name": "Утро", "teacher": UserFactory().pk, **inline})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_memberships_are_read_only_history(staff_client):
    course = CourseFactory()
    membership = membership_place(student=UserFactory(), course_id=course.pk)
    assert staff_client.get(reverse("admin:groups_membership_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:groups_membership_add")).status_code == 403
    view = staff_client.get(reverse("admin:groups_membership_change", args=[membership.pk]))
    assert view.status_code == 200  # view only
    assert 'name="_save"' not in view.content.decode()
    assert staff_client.get(reverse("admin:groups_group_add")).status_code == 403
    assert Membership.objects.count() == 1
