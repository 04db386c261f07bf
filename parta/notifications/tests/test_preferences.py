"""Preferences: per kind and channel, defaults when unset, mandatory kinds always on."""

import pytest

from parta.accounts.tests.factories import UserFactory
from parta.common.errors import ValidationFailed
from parta.notifications.models import Preference
from parta.notifications.preferences import (
    preference_get,
    preference_set,
    preferences_for,
    preferences_update,
)

pytestmark = pytest.mark.django_db


def test_unset_follows_the_kinds_default():
    user = UserFactory()
    assert preference_get(user=user, kind="refund_done", channel="email") is True
    # topic_opened: email is opt-in.
    assert preference_get(user=user, kind="topic_opened", channel="email") is False
    assert preference_get(user=user, kind="topic_opened", channel="site") is True


def test_switching_off_and_on_a_non_mandatory_kind():
    user = UserFactory()
    other = UserFactory()
    preference_set(user=user, kind="access_ending", channel="telegram", enabled=False)
    assert preference_get(user=user, kind="access_ending", channel="telegram") is False
    assert preference_get(user=user, kind="access_ending", channel="email") is True
    assert preference_get(user=other, kind="access_ending", channel="telegram") is True
    preference_set(user=user, kind="access_ending", channel="telegram", enabled=True)
    assert preference_get(user=user, kind="access_ending", channel="telegram") is True
    assert Preference.objects.filter(user=user).count() == 1


def test_mandatory_kind_cannot_be_switched_off_and_ignores_stored_rows():
    user = UserFactory()
    with pytest.raises(ValidationFailed) as refused:
        preference_set(user=user, kind="receipt", channel="email", enabled=False)
    assert "cannot be switched off" in refused.value.message
    # Even a row written behind the service's back does not silence a receipt.
    Preference.objects.create(user=user, kind="receipt", channel="site", enabled=False)
    assert preference_get(user=user, kind="receipt", channel="site") is True
    # Switching it "on" is harmless.
    preference_set(user=user, kind="receipt", channel="email", enabled=True)


def test_a_refused_change_applies_none_of_the_batch():
    user = UserFactory()
    with pytest.raises(ValidationFailed):
        preferences_update(
            user=user,
            changes=[("refund_done", "email", False), ("receipt", "email", False)],
        )
    assert not Preference.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("kind", "channel", "field"),
    [("nope", "email", "kind"), ("refund_done", "pigeon", "channel")],
)
def test_unknown_kind_or_channel_is_a_clear_error(kind, channel, field):
    with pytest.raises(ValidationFailed) as refused:
        preference_set(user=UserFactory(), kind=kind, channel=channel, enabled=False)
    assert field in refused.value.errors


def test_preferences_for_is_one_query_and_shows_mandatory_as_locked(django_assert_num_queries):
    user = UserFactory()
    preference_set(user=user, kind="refund_done", channel="email", enabled=False)
    with django_assert_num_queries(1):
        rows = {row.kind: row for row in preferences_for(user=user)}
    receipt = rows["receipt"]
    assert receipt.mandatory
    assert all(c.locked and c.enabled for c in receipt.channels)
    refund = {c.channel: c for c in rows["refund_done"].channels}
    assert refund["email"].enabled is False
    assert refund["site"].enabled is True
    assert not any(c.locked for c in rows["refund_done"].channels)


def test_staff_only_kinds_are_not_among_a_students_choices():
    from parta.accounts.tests.factories import StaffFactory

    student_kinds = {row.kind for row in preferences_for(user=UserFactory())}
    staff_kinds = {row.kind for row in preferences_for(user=StaffFactory())}
    assert "signin_locked" not in student_kinds
    assert "signin_locked" in staff_kinds
