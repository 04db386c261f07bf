"""What other apps send through the outbox: sign-in codes (recorded), access ended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.billing.services.expiry import grants_expire
from parta.notifications import delivery
from parta.notifications.channels.base import Channel
from parta.notifications.models import Message, Status

pytestmark = pytest.mark.django_db


def test_a_sign_in_code_is_sent_once_and_recorded_as_sent(client):
    user = UserFactory(email="coder@example.com")
    client.post(reverse("account_request_login_code"), {"email": "Coder@example.com"})
    assert len(mail.outbox) == 1
    [row] = Message.objects.all()
    assert (row.user, row.kind, row.channel, row.status) == (
        user,
        "login_code",
        Channel.EMAIL,
        Status.SENT,
    )
    assert row.sent_at is not None
    assert row.context == {}
    # The worker has nothing to send: the code went out already.
    assert delivery.deliver_due().total == 0
    assert len(mail.outbox) == 1


def test_no_row_for_a_code_asked_for_an_unknown_address(client):
    client.post(reverse("account_request_login_code"), {"email": "nobody@example.com"})
    assert not Message.objects.exists()


def test_access_ended_is_told_through_the_outbox_once_per_ending(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(language="ru")
    grant = AccessGrantFactory(
        user=user,
        starts_at=timezone.now() - timedelta(days=31),
        available_until=timezone.now() - timedelta(minutes=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert grants_expire() == 1
    rows = Message.objects.filter(kind="access_ended", user=user)
    assert set(rows.values_list("channel", flat=True)) == {
        Channel.EMAIL,
        Channel.TELEGRAM,
        Channel.SITE,
    }
    assert rows.get(channel=Channel.EMAIL).status == Status.SENT
    [email] = mail.outbox
    # In the student's language, from the kind's templates.
    assert email.subject == f"Доступ к курсу «{grant.course.title}» закончился"
    ended_on = timezone.localtime(grant.available_until)
    assert str(ended_on.year) in email.body
    assert grant.course.title in email.body
    assert email.alternatives

    # Extended and ended again: told again, once.
    grant.refresh_from_db()
    grant.is_active = True
    grant.available_until = timezone.now() - timedelta(seconds=1)
    grant.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert grants_expire() == 1
        assert grants_expire() == 0
    assert len(mail.outbox) == 2
