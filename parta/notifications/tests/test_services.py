"""notify(): one INSERT in the caller's transaction, nothing sent before commit."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from parta.accounts.tests.factories import UserFactory
from parta.notifications.channels.base import Channel
from parta.notifications.models import Message, Status
from parta.notifications.services import notify
from parta.notifications.tests.senders import ScriptedSender

pytestmark = pytest.mark.django_db


def test_notify_is_one_insert_and_sends_nothing_before_commit(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    user = UserFactory()
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        django_assert_num_queries(1) as captured,
    ):
        notify(user=user, kind="outbox_test", context={"number": 1}, dedup_key="lesson:1")
    sql = captured.captured_queries[0]["sql"]
    assert sql.startswith("INSERT")
    assert '"notifications_message"' in sql
    assert Message.objects.filter(status=Status.QUEUED).count() == 3
    # Not a byte has left: the delivery is waiting for the commit.
    assert mail.outbox == []
    assert ScriptedSender.sent == {}
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
    assert len(ScriptedSender.sent) == 1
    assert not Message.objects.exclude(status=Status.SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_a_rollback_stores_nothing_and_sends_nothing():
    user = UserFactory()

    def failing_request() -> None:
        with transaction.atomic():
            notify(user=user, kind="outbox_test", context={"number": 1}, dedup_key="lesson:1")
            raise RuntimeError("the caller's work failed")

    with pytest.raises(RuntimeError):
        failing_request()
    assert not Message.objects.exists()
    assert mail.outbox == []
    assert ScriptedSender.sent == {}


@pytest.mark.django_db(transaction=True)
def test_after_a_real_commit_the_message_is_delivered():
    user = UserFactory()
    with transaction.atomic():
        notify(user=user, kind="outbox_test", context={"number": 1}, dedup_key="lesson:1")
        assert mail.outbox == []
    assert len(mail.outbox) == 1
    assert Message.objects.filter(status=Status.SENT).count() == 3


def test_notify_refuses_a_channel_its_kind_does_not_use():
    with pytest.raises(ValueError, match="not sent by"):
        notify(user=UserFactory(), kind="outbox_code", dedup_key="k", channels=[Channel.TELEGRAM])
    with pytest.raises(LookupError):
        notify(user=UserFactory(), kind="no_such_kind", dedup_key="k")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_does_not_take_the_delivery_of_the_rest_with_it():
    first, second = UserFactory(), UserFactory()
    with transaction.atomic():
        try:
            with transaction.atomic():
                notify(user=first, kind="outbox_test", context={"number": 1}, dedup_key="a")
                raise RuntimeError
        except RuntimeError:
            pass
        notify(user=second, kind="outbox_test", context={"number": 2}, dedup_key="b")
    assert [m.to for m in mail.outbox] == [[second.email]]
    assert set(Message.objects.values_list("user", flat=True)) == {second.pk}
