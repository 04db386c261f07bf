"""Limits on guessing passwords and one-time codes, through the real pages."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from parta.accounts import signin_limits
from parta.accounts.tests.factories import (
    STAFF_PASSWORD,
    ModeratorFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
ADMIN_LOGIN = reverse("admin:login")
REQUEST_CODE = reverse("account_request_login_code")
CONFIRM_CODE = reverse("account_confirm_login_code")
# Documentation addresses (RFC 5737): only strings in REMOTE_ADDR, nothing is sent.
STRANGER, TEACHER_HOME, OTHER = "203.0.113.7", "198.51.100.20", "192.0.2.50"


def client_from(ip: str) -> Client:
    client = Client(REMOTE_ADDR=ip)
    client.cookies["django_language"] = "en"
    return client


def password_login(client: Client, email: str, password: str):
    return client.post(LOGIN, {"login": email, "password": password})


def admin_login(client: Client, email: str, password: str):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- Passwords: /admin/login/ and the moderators' form ------------------------------------


def test_admin_login_locks_after_five_wrong_passwords():
    StaffFactory(email="owner@example.com")
    client = client_from(STRANGER)
    for _attempt in range(5):
        assert admin_login(client, "owner@example.com", "wrong-guess").status_code == 200
    refused = admin_login(client, "owner@example.com", STAFF_PASSWORD)
    assert not signed_in(client)
    assert "Too many wrong passwords" in refused.content.decode()


def test_admin_login_and_the_password_form_share_one_counter():
    StaffFactory(email="owner@example.com")
    client = client_from(STRANGER)
    for _attempt in range(3):
        password_login(client, "owner@example.com", "wrong-guess")
    for _attempt in range(2):
        admin_login(client, "owner@example.com", "wrong-guess")
    # Five in all: both doors are now shut for this address and email.
    password_login(client, "owner@example.com", STAFF_PASSWORD)
    assert not signed_in(client)
    admin_login(client, "owner@example.com", STAFF_PASSWORD)
    assert not signed_in(client)


def test_a_stranger_cannot_lock_a_teacher_out():
    ModeratorFactory(email="teacher@example.com")
    stranger = client_from(STRANGER)
    for _attempt in range(20):
        password_login(stranger, "teacher@example.com", "wrong-guess")
    response = password_login(stranger, "teacher@example.com", STAFF_PASSWORD)
    assert not signed_in(stranger)
    assert "Wait" in response.content.decode()

    teacher = client_from(TEACHER_HOME)
    assert password_login(teacher, "teacher@example.com", STAFF_PASSWORD).status_code == 302
    assert signed_in(teacher)


def test_the_right_password_restarts_the_count_of_its_own_address():
    ModeratorFactory(email="teacher@example.com")
    teacher = client_from(TEACHER_HOME)
    for _attempt in range(4):
        password_login(teacher, "teacher@example.com", "typo")
    assert password_login(teacher, "teacher@example.com", STAFF_PASSWORD).status_code == 302
    teacher.logout()
    for _attempt in range(4):
        password_login(teacher, "teacher@example.com", "typo")
    assert password_login(teacher, "teacher@example.com", STAFF_PASSWORD).status_code == 302


def test_guesses_spread_over_addresses_meet_the_per_email_ceiling(
    settings, django_capture_on_commit_callbacks
):
    settings.PARTA_PASSWORD_FAILS_PER_EMAIL = (8, 86400)
    StaffFactory(email="owner@example.com")
    ModeratorFactory(email="teacher@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(8):
            password_login(client_from(f"203.0.113.{n + 10}"), "teacher@example.com", "guess")
    fresh = client_from(TEACHER_HOME)
    password_login(fresh, "teacher@example.com", STAFF_PASSWORD)
    assert not signed_in(fresh)
    [notice] = mail.outbox
    assert notice.to == ["owner@example.com"]
    assert "teacher@example.com" in notice.subject


def test_one_address_trying_many_emails_is_stopped(settings):
    settings.PARTA_PASSWORD_FAILS_PER_IP = (6, 3600)
    ModeratorFactory(email="teacher@example.com")
    stranger = client_from(STRANGER)
    for n in range(6):
        password_login(stranger, f"someone{n}@example.com", "guess")
    password_login(stranger, "teacher@example.com", STAFF_PASSWORD)
    assert not signed_in(stranger)
    teacher = client_from(TEACHER_HOME)
    password_login(teacher, "teacher@example.com", STAFF_PASSWORD)
    assert signed_in(teacher)


def test_default_password_limits_are_the_documented_ones(settings):
    assert settings.PARTA_PASSWORD_FAILS_PER_EMAIL_AND_IP == (5, 900)
    assert settings.PARTA_PASSWORD_FAILS_PER_EMAIL == (50, 86400)
    assert settings.PARTA_PASSWORD_FAILS_PER_IP == (30, 3600)
    assert settings.PARTA_CODE_FAILS_PER_EMAIL == (30, 86400)
    assert settings.PARTA_CODE_FAILS_PER_IP == (100, 86400)
    assert settings.PARTA_CODE_REQUESTS_PER_EMAIL == (3, 60)


# --- One-time codes ---------------------------------------------------------------------


def _code_of(message) -> str:
    return re.search(r"^\s*(\d{6})\s*$", message.body, re.MULTILINE).group(1)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_thirty_wrong_codes_a_day_lock_the_email_and_tell_the_staff(
    settings, django_capture_on_commit_callbacks
):
    settings.PARTA_CODE_REQUESTS_PER_EMAIL = (1000, 60)
    settings.PARTA_CODE_REQUESTS_PER_IP = (1000, 60)
    StaffFactory(email="owner@example.com")
    UserFactory(email="s@example.com")
    guesser = client_from(STRANGER)
    with django_capture_on_commit_callbacks(execute=True):
        for _round in range(10):  # 3 wrong tries per code: 30 wrong codes
            guesser.post(REQUEST_CODE, {"email": "s@example.com"})
            wrong = _wrong(_code_of(mail.outbox[-1]))
            for _try in range(3):
                guesser.post(CONFIRM_CODE, {"code": wrong})
    [notice] = [m for m in mail.outbox if m.to == ["owner@example.com"]]
    assert "s@example.com" in notice.subject
    assert STRANGER in notice.body

    # The owner of the address, from another address and with the right code: not today.
    codes_sent = len(mail.outbox)
    owner = client_from(TEACHER_HOME)
    refused = owner.post(REQUEST_CODE, {"email": "s@example.com"})
    assert refused.status_code == 200
    assert "sign-in by code is paused" in refused.content.decode()
    assert len(mail.outbox) == codes_sent  # no code is even sent


def test_a_right_code_is_refused_once_the_email_is_locked(settings):
    settings.PARTA_CODE_FAILS_PER_EMAIL = (4, 86400)
    UserFactory(email="s@example.com")
    owner = client_from(TEACHER_HOME)
    owner.post(REQUEST_CODE, {"email": "s@example.com"})
    good = _code_of(mail.outbox[-1])
    stranger = client_from(STRANGER)
    stranger.post(REQUEST_CODE, {"email": "s@example.com"})
    for _try in range(3):
        stranger.post(CONFIRM_CODE, {"code": _wrong(_code_of(mail.outbox[-1]))})
    stranger.post(REQUEST_CODE, {"email": "s@example.com"})
    stranger.post(CONFIRM_CODE, {"code": "123"})  # the fourth wrong code: locked
    response = owner.post(CONFIRM_CODE, {"code": good}, follow=True)
    assert not signed_in(owner)
    assert "sign-in by code is paused" in response.content.decode()


def test_wrong_codes_from_one_address_over_many_emails_are_stopped(settings):
    settings.PARTA_CODE_FAILS_PER_IP = (6, 86400)
    UserFactory(email="s@example.com")
    stranger = client_from(STRANGER)
    for n in range(2):
        email = f"other{n}@example.com"
        UserFactory(email=email)
        stranger.post(REQUEST_CODE, {"email": email})
        for _try in range(3):
            stranger.post(CONFIRM_CODE, {"code": "999999"})
    stranger.post(REQUEST_CODE, {"email": "s@example.com"})
    good = _code_of(mail.outbox[-1])
    stranger.post(CONFIRM_CODE, {"code": good})
    assert not signed_in(stranger)
    # The same code from the student's own network still works.
    owner = client_from(TEACHER_HOME)
    owner.post(REQUEST_CODE, {"email": "s@example.com"})
    owner.post(CONFIRM_CODE, {"code": _code_of(mail.outbox[-1])})
    assert signed_in(owner)


def test_the_fourth_code_request_in_a_minute_says_how_long_to_wait():
    UserFactory(email="s@example.com")
    for _request in range(3):
        assert (
            client_from(TEACHER_HOME).post(REQUEST_CODE, {"email": "s@example.com"}).status_code
            == 302
        )
    client = client_from(TEACHER_HOME)
    client.cookies["django_language"] = "ru"
    fourth = client.post(REQUEST_CODE, {"email": "s@example.com"})
    text = fourth.content.decode()
    assert fourth.status_code == 200
    assert re.search(r"Подождите \d+ (секунду|секунды|секунд) и попробуйте снова", text), text
    assert "неудачных" not in text.lower()
    assert len(mail.outbox) == 3


def test_send_again_counts_as_a_code_request():
    UserFactory(email="s@example.com")
    client = client_from(TEACHER_HOME)
    client.post(REQUEST_CODE, {"email": "s@example.com"})
    client.post(CONFIRM_CODE, {"action": "resend"})
    client.post(CONFIRM_CODE, {"action": "resend"})
    assert len(mail.outbox) == 3
    # The newest code is the one that works.
    newest = _code_of(mail.outbox[-1])
    another = client_from(TEACHER_HOME).post(REQUEST_CODE, {"email": "s@example.com"})
    assert "Wait" in another.content.decode()
    client.post(CONFIRM_CODE, {"code": newest})
    assert signed_in(client)


@pytest.mark.parametrize(
    ("seconds", "russian"),
    [
        (1, "Подождите 1 секунду и попробуйте снова."),
        (2, "Подождите 2 секунды и попробуйте снова."),
        (5, "Подождите 5 секунд и попробуйте снова."),
        (21, "Подождите 21 секунду и попробуйте снова."),
        (42, "Подождите 42 секунды и попробуйте снова."),
        (11, "Подождите 11 секунд и попробуйте снова."),
        (300, "Подождите 5 минут и попробуйте снова."),
        (86400, "Подождите 24 часа и попробуйте снова."),
    ],
)
def test_wait_phrase_in_russian(seconds, russian):
    with translation.override("ru"):
        assert signin_limits.wait_phrase(seconds) == russian


def test_sliding_window_counts_and_waits(settings):
    limit = signin_limits.Limit(name="test", amount=2, window=60)
    assert signin_limits.limit_retry_after(limit, "a") == 0
    signin_limits.limit_hit(limit, "a")
    assert signin_limits.limit_retry_after(limit, "a") == 0
    signin_limits.limit_hit(limit, "a")
    assert 58 <= signin_limits.limit_retry_after(limit, "a") <= 60
    assert signin_limits.limit_retry_after(limit, "b") == 0


def test_the_staff_hear_of_a_password_ceiling_once(settings, django_capture_on_commit_callbacks):
    settings.PARTA_PASSWORD_FAILS_PER_EMAIL = (3, 86400)
    StaffFactory(email="owner@example.com")
    ModeratorFactory(email="teacher@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            signin_limits.password_attempt_failed(email="teacher@example.com", ip=f"203.0.113.{n}")
        # More guesses in the same window (as after the oldest one left it): no new email.
        signin_limits.password_attempt_failed(email="teacher@example.com", ip="203.0.113.9")
    assert len(mail.outbox) == 1


def test_no_code_is_sent_to_an_address_that_may_not_try_one(settings):
    settings.PARTA_CODE_FAILS_PER_IP = (3, 86400)
    UserFactory(email="s@example.com")
    stranger = client_from(STRANGER)
    stranger.post(REQUEST_CODE, {"email": "s@example.com"})
    for _try in range(3):
        stranger.post(CONFIRM_CODE, {"code": "999999"})
    sent = len(mail.outbox)
    refused = stranger.post(REQUEST_CODE, {"email": "s@example.com"})
    assert "Too many wrong codes from your network" in refused.content.decode()
    assert len(mail.outbox) == sent


def test_counts_from_parallel_requests_are_not_lost():
    from concurrent.futures import ThreadPoolExecutor

    limit = signin_limits.Limit(name="parallel", amount=40, window=60)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _n: signin_limits.limit_hit(limit, "x"), range(40)))
    # All 40 were counted: the limit is reached and the next one has to wait.
    assert signin_limits.limit_retry_after(limit, "x") > 0
    assert signin_limits.limit_hit(limit, "x") == 41
