"""The email channel against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import logging

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.utils import timezone

from parta.accounts.tests.factories import UserFactory
from parta.common.testing.processes import free_port
from parta.common.testing.smtp import SmtpSink
from parta.notifications import delivery
from parta.notifications.channels.base import Channel
from parta.notifications.kinds import Kind, register_kind
from parta.notifications.models import Message, Status
from parta.notifications.services import notify


def _unsubscribe_headers(*, user, context):
    return {
        "List-Unsubscribe": f"<https://parta.example/u/{user.pk}/{context['number']}/>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# A news-like kind: its emails carry headers of their own (the templates are outbox_test's).
register_kind(Kind(name="outbox_test_news", label="News test", email_headers=_unsubscribe_headers))


class PickySink(SmtpSink):
    """Refuses recipients whose address starts with "refused" (5xx) or "greylisted" (4xx)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 No such user"
        if address.startswith("greylisted"):
            return "450 4.2.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    return settings


def _start(port: int) -> tuple[PickySink, Controller]:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = PickySink(host="127.0.0.1", port=port)
    controller = Controller(sink, hostname=sink.host, port=port)
    controller.start()
    return sink, controller


def _tell(user, number: int, kind: str = "outbox_test") -> None:
    notify(
        user=user,
        kind=kind,
        context={"number": number},
        dedup_key=f"lesson:{number}",
        channels=[Channel.EMAIL],
    )


@pytest.mark.django_db(transaction=True)
def test_smtp_down_then_up_every_queued_email_arrives_once(smtp_settings):
    users = [UserFactory(email=f"down{n}@example.com") for n in range(5)]
    # SMTP is down (nothing listens on the port): each commit's delivery fails and waits.
    for number, user in enumerate(users):
        with transaction.atomic():
            _tell(user, number)
    rows = Message.objects.all()
    assert rows.count() == 5
    assert set(rows.values_list("status", "attempts")) == {(Status.QUEUED, 1)}
    assert all("SMTP unavailable" in error for error in rows.values_list("last_error", flat=True))

    sink, controller = _start(smtp_settings.EMAIL_PORT)
    try:
        # Their next attempt comes due (backoff elapsed); the worker runs, twice.
        Message.objects.update(next_attempt_at=timezone.now())
        assert delivery.deliver_due().outcomes == {Status.SENT: 5}
        assert delivery.deliver_due().total == 0
        arrived = sink.wait_for(5)
    finally:
        controller.stop()
    assert sorted(m["X-Envelope-To"] for m in arrived) == sorted(u.email for u in users)
    assert len({m["Message-ID"] for m in arrived}) == 5
    assert set(Message.objects.values_list("status", flat=True)) == {Status.SENT}
    for message in arrived:
        assert message.is_multipart()
        types = {part.get_content_type() for part in message.walk()}
        assert {"text/plain", "text/html"} <= types
        assert "is ready" in SmtpSink.text_of(message)


@pytest.mark.django_db
def test_recipient_refused_for_good_fails_and_greylisting_retries(smtp_settings):
    sink, controller = _start(smtp_settings.EMAIL_PORT)
    try:
        _tell(UserFactory(email="refused@example.com"), 1)
        _tell(UserFactory(email="greylisted@example.com"), 2)
        _tell(UserFactory(email="fine@example.com"), 3)
        delivery.deliver_due()
        sink.wait_for(1)
    finally:
        controller.stop()
    rows = {row.user.email: row for row in Message.objects.select_related("user")}
    assert rows["refused@example.com"].status == Status.FAILED
    assert "550" in rows["refused@example.com"].last_error
    assert rows["greylisted@example.com"].status == Status.QUEUED
    assert "450" in rows["greylisted@example.com"].last_error
    assert rows["fine@example.com"].status == Status.SENT
    assert [m["X-Envelope-To"] for m in sink.messages] == ["fine@example.com"]


@pytest.mark.django_db
def test_a_kind_adds_its_headers_like_list_unsubscribe(smtp_settings):
    sink, controller = _start(smtp_settings.EMAIL_PORT)
    user = UserFactory()
    try:
        _tell(user, 5, kind="outbox_test_news")
        delivery.deliver_due()
        [message] = sink.wait_for(1)
    finally:
        controller.stop()
    assert message["List-Unsubscribe"] == f"<https://parta.example/u/{user.pk}/5/>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = Message.objects.get()
    assert row.peer_id == message["Message-ID"] == f"<notification-{row.pk}@127.0.0.1>"
