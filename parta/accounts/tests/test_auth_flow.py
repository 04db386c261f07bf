"""Sign-up and sign-in by email code, through the real allauth views."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from parta.accounts.models import Role, User
from parta.accounts.tests.factories import ModeratorFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = reverse("account_signup")
REQUEST_CODE = reverse("account_request_login_code")
CONFIRM_CODE = reverse("account_confirm_login_code")
CONFIRM_EMAIL = reverse("account_email_verification_sent")
PROFILE = reverse("accounts:profile")


def code_from(message) -> str:
    match = re.search(r"^\s*(\d{6})\s*$", message.body, re.MULTILINE)
    assert match, message.body
    return match.group(1)


def request_code(client: Client, email: str):
    return client.post(REQUEST_CODE, {"email": email})


def test_signup_emails_a_code_that_verifies_and_logs_in(client):
    response = client.post(
        SIGNUP,
        {"email": "Ivan@Example.com", "full_name": " Иван  Иванов ", "phone": "8 999 111 22 33"},
    )
    assert response.status_code == 302
    user = User.objects.get()
    assert (user.email, user.full_name, user.phone, user.role) == (
        "ivan@example.com",
        "Иван Иванов",
        "+79991112233",
        Role.STUDENT,
    )
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ivan@example.com"]
    code = code_from(mail.outbox[0])

    page = client.get(response["Location"])
    assert "ivan@example.com" in page.content.decode()
    assert code not in page.content.decode()

    confirmed = client.post(response["Location"], {"code": code})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == PROFILE
    assert EmailAddress.objects.get(user=user).verified
    profile = client.get(PROFILE)
    assert profile.status_code == 200
    assert "Иван Иванов" in profile.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email", "full_name": "A B"}, "email", "enter a valid email address"),
        ({"email": "a@example.com", "full_name": ""}, "full_name", "enter your full name"),
        ({"email": "a@example.com", "full_name": "   "}, "full_name", "enter your full name"),
        (
            {"email": "a@example.com", "full_name": "A B", "phone": "12345"},
            "phone",
            "enter a valid phone number",
        ),
    ],
)
def test_signup_bad_input_shows_message_and_creates_nothing(client, data, field, message):
    client.cookies["django_language"] = "en"
    response = client.post(SIGNUP, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in response.content.decode().lower()
    assert not User.objects.exists()
    assert mail.outbox == []


def test_signup_with_registered_email_reveals_nothing_and_changes_nothing(client):
    existing = UserFactory(email="taken@example.com", full_name="Original Owner")
    fresh = Client().post(SIGNUP, {"email": "fresh@example.com", "full_name": "New Person"})

    response = client.post(SIGNUP, {"email": "TAKEN@example.com", "full_name": "Intruder"})
    # The same answer as for a new address: a redirect to the code page.
    assert response.status_code == fresh.status_code == 302
    assert response["Location"] == fresh["Location"]
    assert User.objects.filter(email="taken@example.com").count() == 1
    existing.refresh_from_db()
    assert existing.full_name == "Original Owner"
    notice = mail.outbox[-1]
    assert notice.to == ["taken@example.com"]
    assert REQUEST_CODE in notice.body  # tells the owner how to sign in instead


def test_login_by_code_for_a_student(client):
    student = UserFactory(email="s@example.com")
    response = request_code(client, "S@example.com")
    assert response.status_code == 302
    assert response["Location"] == CONFIRM_CODE
    code = code_from(mail.outbox[-1])
    assert client.post(CONFIRM_CODE, {"code": code}).status_code == 302
    assert client.get(reverse("api:me")).json()["email"] == student.email


def test_unknown_email_gets_the_same_answer_and_no_account(client):
    UserFactory(email="known@example.com")
    known = request_code(Client(), "known@example.com")
    unknown = request_code(client, "nobody@example.com")
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert not User.objects.filter(email="nobody@example.com").exists()
    page = client.get(CONFIRM_CODE)
    assert page.status_code == 200
    # The owner of the unknown address learns there is no account, by email only.
    assert mail.outbox[-1].to == ["nobody@example.com"]
    assert reverse("account_signup") in mail.outbox[-1].body


def test_wrong_code_is_refused_with_a_message(client):
    UserFactory(email="s@example.com")
    request_code(client, "s@example.com")
    good = code_from(mail.outbox[-1])
    wrong = "000000" if good != "000000" else "111111"
    client.cookies["django_language"] = "en"
    response = client.post(CONFIRM_CODE, {"code": wrong})
    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_too_many_wrong_codes_end_the_attempt(client, settings):
    UserFactory(email="s@example.com")
    request_code(client, "s@example.com")
    good = code_from(mail.outbox[-1])
    wrong = "000000" if good != "000000" else "111111"
    for _attempt in range(settings.ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS):
        last = client.post(CONFIRM_CODE, {"code": wrong})
    # The code is spent: even the right one no longer works.
    assert last.status_code == 302
    after = client.post(CONFIRM_CODE, {"code": good}, follow=True)
    assert "_auth_user_id" not in client.session
    assert after.request["PATH_INFO"] != PROFILE


def test_expired_code_is_refused(client, settings):
    UserFactory(email="s@example.com")
    request_code(client, "s@example.com")
    good = code_from(mail.outbox[-1])
    settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT = -1  # every code is now past its lifetime
    client.post(CONFIRM_CODE, {"code": good}, follow=True)
    assert "_auth_user_id" not in client.session


def test_code_requests_are_rate_limited_per_email(client):
    UserFactory(email="s@example.com")
    statuses = [request_code(Client(), "s@example.com").status_code for _ in range(3)]
    assert statuses == [302, 302, 302]
    client.cookies["django_language"] = "en"
    fourth = request_code(client, "s@example.com")
    assert fourth.status_code == 200
    assert "Wait" in fourth.content.decode()
    assert len(mail.outbox) == 3


def test_moderator_logs_in_with_password(client):
    moderator = ModeratorFactory(email="teacher@example.com", password="a-long-unusual-passphrase")
    response = client.post(
        reverse("account_login"),
        {"login": "teacher@example.com", "password": "a-long-unusual-passphrase"},
    )
    assert response.status_code == 302
    assert client.get(reverse("api:me")).json()["id"] == moderator.id


def test_student_cannot_log_in_with_a_password(client):
    UserFactory(email="s@example.com")
    response = client.post(
        reverse("account_login"), {"login": "s@example.com", "password": "anything-at-all"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_profile_needs_login_and_sends_to_code_page(client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith(REQUEST_CODE)
