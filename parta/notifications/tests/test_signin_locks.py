"""A sign-in lock reaches the staff through the outbox, once per lock window."""

from __future__ import annotations

import pytest
from django.core import mail

from parta.accounts.services import signin_lock_notify
from parta.accounts.tests.factories import StaffFactory, UserFactory
from parta.notifications.models import Message, Status

pytestmark = pytest.mark.django_db


def test_a_lock_is_stored_for_every_staff_member_and_delivered_once(
    django_capture_on_commit_callbacks,
):
    owner, deputy = StaffFactory(email="owner@example.com"), StaffFactory()
    student = UserFactory(email="victim@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert signin_lock_notify(email=student.email, ip="203.0.113.7", kind="code")
        assert signin_lock_notify(email=student.email, ip="203.0.113.8", kind="code")
    rows = Message.objects.filter(kind="signin_locked")
    assert {(row.user_id, row.channel) for row in rows} == {
        (owner.pk, "email"),
        (owner.pk, "site"),
        (deputy.pk, "email"),
        (deputy.pk, "site"),
    }
    assert not rows.exclude(status=Status.SENT).exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, deputy.email])
    assert "victim@example.com" in mail.outbox[0].body
    assert not Message.objects.filter(user=student).exists()


def test_no_alert_for_an_address_nobody_owns():
    StaffFactory()
    assert signin_lock_notify(email="nobody@example.com", ip="203.0.113.7", kind="code") is False
    assert not Message.objects.exists()
