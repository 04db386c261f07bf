"""The outbox in the admin: filters, search, the last error, resend with a confirmation."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.core import mail
from django.urls import reverse

from parta.accounts.tests.factories import StaffFactory, UserFactory
from parta.notifications.channels.base import Channel
from parta.notifications.models import Message, Status

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_message_changelist")


def _message(user, *, channel=Channel.EMAIL, status=Status.FAILED, error="", key="lesson:1"):
    return Message.objects.create(
        user=user,
        kind="outbox_test",
        channel=channel,
        dedup_key=key,
        context={"number": 3},
        status=status,
        attempts=8 if status == Status.FAILED else 1,
        last_error=error,
    )


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def test_the_list_filters_searches_and_shows_the_last_error(
    staff_client, django_assert_max_num_queries
):
    anna, boris = UserFactory(email="anna@example.com"), UserFactory(email="boris@example.com")
    failed = _message(anna, error="SMTP 550: recipient refused: No such user")
    _message(anna, channel=Channel.SITE, status=Status.SENT)
    _message(boris, status=Status.UNKNOWN, error="lease ended", key="lesson:2")
    for n in range(20):
        _message(UserFactory(), status=Status.SENT, key=f"bulk:{n}")

    with django_assert_max_num_queries(12):
        page = staff_client.get(CHANGELIST)
    assert page.status_code == 200
    text = page.content.decode()
    assert "SMTP 550: recipient refused: No such user" in text
    for filter_param in ("status__exact=failed", "kind=outbox_test", "channel__exact=site"):
        assert filter_param in text

    page = staff_client.get(CHANGELIST, {"status__exact": "failed", "channel__exact": "email"})
    assert list(page.context["cl"].result_list) == [failed]
    page = staff_client.get(CHANGELIST, {"q": "boris@"})
    assert [m.user.email for m in page.context["cl"].result_list] == ["boris@example.com"]

    detail = staff_client.get(reverse("admin:notifications_message_change", args=[failed.pk]))
    assert detail.status_code == 200
    assert "No such user" in detail.content.decode()


def test_resend_asks_first_then_queues_failed_and_unknown_rows_once(
    staff_client, django_capture_on_commit_callbacks
):
    user = UserFactory(email="again@example.com")
    failed = _message(user, error="SMTP unavailable")
    unknown = _message(user, channel=Channel.SITE, status=Status.UNKNOWN, key="lesson:2")
    sent = _message(user, status=Status.SENT, key="lesson:3")
    chosen = [failed.pk, unknown.pk, sent.pk]
    data = {"action": "resend", helpers.ACTION_CHECKBOX_NAME: chosen}

    page = staff_client.post(CHANGELIST, data)
    assert page.status_code == 200
    text = page.content.decode()
    # The admin speaks the school's language.
    assert "Отправить сообщения заново?" in text
    assert "again@example.com" in text
    assert "SMTP unavailable" in text
    assert "1 выбранное сообщение не в статусе «не доставлено» или «неизвестно»" in text
    # Nothing changed yet.
    assert Message.objects.get(pk=failed.pk).status == Status.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        done = staff_client.post(CHANGELIST, {**data, "confirmed": "yes"}, follow=True)
    assert "2 сообщения снова в очереди." in done.content.decode()
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses == {failed.pk: Status.SENT, unknown.pk: Status.SENT, sent.pk: Status.SENT}
    assert [m.to for m in mail.outbox] == [["again@example.com"]]

    # Confirming the same selection again resends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        again = staff_client.post(CHANGELIST, {**data, "confirmed": "yes"}, follow=True)
    assert "0 сообщений снова в очереди." in again.content.decode()
    assert len(mail.outbox) == 1


def test_staff_cannot_add_or_delete_outbox_rows(staff_client):
    assert staff_client.get(reverse("admin:notifications_message_add")).status_code == 403
    message = _message(UserFactory())
    url = reverse("admin:notifications_message_delete", args=[message.pk])
    assert staff_client.get(url).status_code == 403
