"""The sign-in code travels through Django's SMTP backend to a real SMTP server."""

import re
from email.header import decode_header, make_header

import pytest
from django.urls import reverse

from parta.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_code_is_delivered_over_smtp(client, smtp_sink):
    UserFactory(email="smtp-student@example.com")
    response = client.post(
        reverse("account_request_login_code"), {"email": "smtp-student@example.com"}
    )
    assert response.status_code == 302

    [message] = smtp_sink.wait_for(1)
    assert message["X-Envelope-To"] == "smtp-student@example.com"
    assert message["To"] == "smtp-student@example.com"
    body = smtp_sink.text_of(message)
    code = re.search(r"^\s*(\d{6})\s*$", body, re.MULTILINE).group(1)
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject.startswith("[Parta] ")
    assert code in subject

    confirmed = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert confirmed.status_code == 302
    assert client.get(reverse("api:me")).json()["email"] == "smtp-student@example.com"
