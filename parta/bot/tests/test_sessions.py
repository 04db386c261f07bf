"""Accept / Decline under a live session's invitation, fed as real callback queries through
getUpdates to the real dispatcher."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.groups.models import Invitation, Response
from parta.groups.services import membership_place
from parta.groups.sessions import session_cancel, session_create

pytestmark = pytest.mark.django_db(transaction=True)

CHAT = 880101
OTHER_CHAT = 880102


@pytest.fixture
def invitations():
    course = CourseFactory(max_group_size=5)
    mine = UserFactory(telegram_chat_id=CHAT, language="en")
    other = UserFactory(telegram_chat_id=OTHER_CHAT, language="en")
    for student in (mine, other):
        membership_place(student=student, course_id=course.pk)
    session = session_create(
        actor=ModeratorFactory(),
        course=course,
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=60,
    )
    return (
        session,
        Invitation.objects.get(session=session, user=mine),
        Invitation.objects.get(session=session, user=other),
    )


def _last_answer(peer) -> str:
    return peer.requests("answerCallbackQuery")[-1].params["text"]


def test_accept_is_recorded_once_and_a_second_tap_says_so(run_bot, telegram_peer, invitations):
    _session, mine, _other = invitations
    run_bot(lambda: telegram_peer.push_callback(CHAT, f"inv:accepted:{mine.pk}"), replies=0)
    assert _last_answer(telegram_peer) == "Thank you: you accepted the invitation."
    mine.refresh_from_db()
    first_at = mine.responded_at
    assert mine.response == Response.ACCEPTED

    run_bot(lambda: telegram_peer.push_callback(CHAT, f"inv:accepted:{mine.pk}"), replies=0)
    assert _last_answer(telegram_peer) == "You have already accepted this invitation."
    mine.refresh_from_db()
    assert mine.responded_at == first_at

    run_bot(lambda: telegram_peer.push_callback(CHAT, f"inv:declined:{mine.pk}"), replies=0)
    assert _last_answer(telegram_peer) == "Noted: you declined the invitation."
    mine.refresh_from_db()
    assert mine.response == Response.DECLINED


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ("inv:accepted:{other}", "This invitation is not yours."),
        ("inv:accepted:999999", "There is no such invitation."),
        ("inv:yes:{mine}", "This button no longer works."),
        ("inv:accepted:1:2", "This button no longer works."),
    ],
)
def test_a_forged_or_another_persons_button_changes_nothing(
    run_bot, telegram_peer, invitations, data, said
):
    _session, mine, other = invitations
    forged = data.format(mine=mine.pk, other=other.pk)
    run_bot(lambda: telegram_peer.push_callback(CHAT, forged), replies=0)
    assert _last_answer(telegram_peer) == said
    assert not Invitation.objects.exclude(response=Response.NONE).exists()


def test_an_unlinked_chat_is_told_to_link(run_bot, telegram_peer, invitations):
    _session, mine, _other = invitations
    run_bot(lambda: telegram_peer.push_callback(880199, f"inv:accepted:{mine.pk}"), replies=0)
    assert "not linked" in _last_answer(telegram_peer)
    assert not Invitation.objects.exclude(response=Response.NONE).exists()


def test_answering_a_cancelled_session_is_refused(run_bot, telegram_peer, invitations):
    session, mine, _other = invitations
    session_cancel(actor=ModeratorFactory(), session=session)
    run_bot(lambda: telegram_peer.push_callback(CHAT, f"inv:accepted:{mine.pk}"), replies=0)
    assert _last_answer(telegram_peer) == "This session was cancelled."
    mine.refresh_from_db()
    assert mine.response == Response.NONE
