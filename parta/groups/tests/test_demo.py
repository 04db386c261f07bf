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


def test_the_demo_has_one_upcoming_session_with_every_kind_of_answer():
    from django.utils import timezone

    from parta.groups.demo import DEMO_SESSION_DESCRIPTION
    from parta.groups.models import Invitation, LiveSession, Response

    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    (session,) = LiveSession.objects.filter(description=DEMO_SESSION_DESCRIPTION)
    assert LiveSession.objects.count() == 1
    assert session.starts_at > timezone.now()
    assert session.teacher.email == DEMO_MODERATOR_EMAIL
    answers = dict(
        Invitation.objects.filter(session=session).values_list("user__email", "response")
    )
    assert len(answers) == 5  # the whole course
    assert answers[DEMO_STUDENT_EMAIL] == Response.ACCEPTED
    assert sorted(answers.values()).count(Response.DECLINED) == 1
    assert sorted(answers.values()).count(Response.NONE) == 3
    assert f"/workspace/sessions/{session.pk}/" in out.getvalue()


def test_a_past_demo_session_gives_way_to_a_new_upcoming_one():
    from datetime import timedelta

    from django.utils import timezone

    from parta.groups.models import LiveSession

    call_command("seed_demo", stdout=io.StringIO())
    LiveSession.objects.update(starts_at=timezone.now() - timedelta(days=3))
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    assert LiveSession.objects.count() == 2
    assert LiveSession.objects.filter(starts_at__gt=timezone.now()).count() == 1
