"""Who has a password (moderators and staff, never students), and the code page: what
its buttons do and that every input on the sign-in pages has a label."""

import re
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from parta.accounts.tests.factories import STAFF_PASSWORD, ModeratorFactory, UserFactory

pytestmark = pytest.mark.django_db

SET_PASSWORD = reverse("account_set_password")
CHANGE_PASSWORD = reverse("account_change_password")
RESET_PASSWORD = reverse("account_reset_password")
LOGIN = reverse("account_login")
REQUEST_CODE = reverse("account_request_login_code")
CONFIRM_CODE = reverse("account_confirm_login_code")
PROFILE = reverse("accounts:profile")


# --- Students have no password ------------------------------------------------------------


@pytest.mark.parametrize("url", [SET_PASSWORD, CHANGE_PASSWORD])
def test_a_student_cannot_set_a_password(client, url):
    student = UserFactory(email="s@example.com")
    client.force_login(student)
    client.cookies["django_language"] = "en"
    page = client.get(url, follow=True)
    assert page.redirect_chain[-1][0] == PROFILE
    assert "Students have no password" in page.content.decode()

    posted = client.post(
        url, {"password1": "a-long-unusual-pass", "password2": "a-long-unusual-pass"}
    )
    assert posted.status_code == 302
    assert posted["Location"] == PROFILE
    student.refresh_from_db()
    assert not student.has_usable_password()
    # Nor does that password open the password form.
    fresh = Client()
    fresh.post(LOGIN, {"login": "s@example.com", "password": "a-long-unusual-pass"})
    assert "_auth_user_id" not in fresh.session


def test_the_password_form_refuses_a_student_who_has_one_from_before():
    student = UserFactory(email="s@example.com", password="an-old-password-2020")
    assert student.has_usable_password()
    client = Client()
    response = client.post(LOGIN, {"login": "s@example.com", "password": "an-old-password-2020"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_student_gets_no_password_reset_link(client):
    UserFactory(email="s@example.com")
    client.post(RESET_PASSWORD, {"email": "s@example.com"})
    assert not any("password/reset/key" in message.body for message in mail.outbox)


def test_a_moderator_still_changes_their_password(client):
    moderator = ModeratorFactory(email="teacher@example.com")
    client.force_login(moderator)
    assert client.get(CHANGE_PASSWORD).status_code == 200
    response = client.post(
        CHANGE_PASSWORD,
        {
            "oldpassword": STAFF_PASSWORD,
            "password1": "a-brand-new-passphrase",
            "password2": "a-brand-new-passphrase",
        },
    )
    assert response.status_code == 302
    moderator.refresh_from_db()
    assert moderator.check_password("a-brand-new-passphrase")


# --- The code page --------------------------------------------------------------------------


def _on_code_page(client: Client, email: str = "s@example.com"):
    client.post(REQUEST_CODE, {"email": email})
    return client.get(CONFIRM_CODE).content.decode()


def test_cancel_goes_back_to_the_code_request_not_the_password_page(client):
    UserFactory(email="s@example.com")
    html = _on_code_page(client)
    form = re.search(r'<form id="logout-from-stage".*?</form>', html, re.S).group(0)
    assert f'name="next" value="{REQUEST_CODE}"' in form
    assert f'value="{LOGIN}"' not in form
    response = client.post(reverse("account_logout"), {"next": REQUEST_CODE})
    assert response["Location"] == REQUEST_CODE
    # The stage is gone: the code page sends back to the request.
    assert client.get(CONFIRM_CODE)["Location"].startswith(REQUEST_CODE)


def test_the_code_page_offers_send_again_and_change_email(client):
    UserFactory(email="s@example.com")
    client.cookies["django_language"] = "en"
    html = _on_code_page(client)
    assert 'form="resend"' in html
    assert "Send the code again" in html
    change = re.search(r'<a href="([^"]+)" class="change-email">', html).group(1)
    assert change == f"{REQUEST_CODE}?email=s%40example.com"
    form_page = client.get(change.replace("&amp;", "&")).content.decode()
    assert re.search(r'<input[^>]*name="email"[^>]*value="s@example.com"', form_page)


def test_a_mistyped_email_can_be_replaced(client):
    UserFactory(email="right@example.com")
    _on_code_page(client, "rigth@example.com")
    client.post(REQUEST_CODE, {"email": "right@example.com"})
    code = re.search(r"^\s*(\d{6})\s*$", mail.outbox[-1].body, re.M).group(1)
    assert mail.outbox[-1].to == ["right@example.com"]
    client.post(CONFIRM_CODE, {"code": code})
    assert "_auth_user_id" in client.session


# --- Labels ---------------------------------------------------------------------------------


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields, self.label_for = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        if tag in {"input", "select", "textarea"} and attrs.get("type") not in {
            "hidden",
            "submit",
            "button",
        }:
            self.fields.append(attrs)


def unlabelled_inputs(html: str) -> list[dict]:
    parser = _Inputs()
    parser.feed(html)
    return [
        field
        for field in parser.fields
        if not field.get("aria-label") and field.get("id") not in parser.label_for
    ]


def test_every_input_on_the_sign_in_pages_has_a_label():
    UserFactory(email="s@example.com")
    pages = {}
    anonymous = Client()
    for url in (LOGIN, REQUEST_CODE, reverse("account_signup"), RESET_PASSWORD):
        pages[url] = anonymous.get(url).content.decode()
    pages[CONFIRM_CODE] = _on_code_page(Client())
    signup = Client()
    signup.post(reverse("account_signup"), {"email": "new@example.com", "full_name": "Н Н"})
    pages["email verification"] = signup.get(
        reverse("account_email_verification_sent")
    ).content.decode()
    moderator = Client()
    moderator.force_login(ModeratorFactory())
    pages[CHANGE_PASSWORD] = moderator.get(CHANGE_PASSWORD).content.decode()
    for name, html in pages.items():
        assert "<input" in html, name
        assert unlabelled_inputs(html) == [], name


def test_a_reset_link_mailed_to_a_student_before_sets_nothing(client):
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    student = UserFactory(email="s@example.com")
    key = default_token_generator.make_token(student)
    url = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(student), "key": key},
    )
    client.cookies["django_language"] = "en"
    form_url = client.get(url)["Location"]  # allauth moves the key into the session
    response = client.post(
        form_url, {"password1": "a-long-unusual-pass", "password2": "a-long-unusual-pass"}
    )
    assert "Students have no password" in response.content.decode()
    student.refresh_from_db()
    assert not student.has_usable_password()
