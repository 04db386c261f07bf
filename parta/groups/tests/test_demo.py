"""The demo course has groups of two, filled by the demo students, the first with the
demo moderator as its teacher; loading the demo again changes nothing."""

import io

import pytest
from django.core.management import call_command

from parta.accounts.demo import DEMO_MODERATOR_EMAIL, DEMO_STUDENT_EMAIL
from parta.groups.models import Group, Membership

pytestmark = pytest.mark.django_db


def test_the_demo_course_has_small_groups_with_students():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    groups = list(Group.objects.filter(course__slug="math-ege-60").order_by("number"))
    assert groups[0].course.max_group_size == 2
    assert [g.members_count for g in groups] == [2, 2, 1]
    assert groups[0].teacher.email == DEMO_MODERATOR_EMAIL
    mine = Membership.objects.get(student__email=DEMO_STUDENT_EMAIL, ended_at=None)
    assert mine.group == groups[0]
    assert Membership.objects.count() == 5
