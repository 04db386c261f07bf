import io

import pytest
from django.core.management import CommandError, call_command

from parta.accounts.demo import DEMO_MODERATOR_EMAIL, DEMO_PASSWORD, DEMO_STUDENT_EMAIL
from parta.accounts.models import Role, User
from parta.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_createmoderator_with_password():
    out = io.StringIO()
    call_command(
        "createmoderator",
        "--email=Teacher@Example.com",
        "--password=a-long-unusual-passphrase",
        "--full-name=Мария Ивановна",
        stdout=out,
    )
    moderator = User.objects.get(email="teacher@example.com")
    assert moderator.role == Role.MODERATOR
    assert moderator.full_name == "Мария Ивановна"
    assert moderator.check_password("a-long-unusual-passphrase")
    assert "teacher@example.com" in out.getvalue()


def test_createmoderator_weak_password_is_a_clear_error():
    with pytest.raises(CommandError) as exc:
        call_command("createmoderator", "--email=t@example.com", "--password=12345")
    # Commands speak the school's language; the validator names the minimum length.
    assert "10" in str(exc.value)
    assert len(str(exc.value).splitlines()) >= 2
    assert not User.objects.exists()


def test_createmoderator_existing_email_is_a_clear_error(settings):
    settings.LANGUAGE_CODE = "en"
    UserFactory(email="t@example.com", full_name="Existing")
    with pytest.raises(CommandError) as exc:
        call_command(
            "createmoderator", "--email=T@example.com", "--password=a-long-unusual-passphrase"
        )
    assert "A user with this email already exists." in str(exc.value)
    assert User.objects.get().full_name == "Existing"


def test_createmoderator_asks_for_the_password_twice(monkeypatch):
    answers = iter(["a-long-unusual-passphrase", "a-long-unusual-passphrase"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("createmoderator", "--email=t@example.com", stdout=io.StringIO())
    assert User.objects.get().check_password("a-long-unusual-passphrase")


def test_createmoderator_mismatched_passwords_create_nothing(monkeypatch):
    answers = iter(["a-long-unusual-passphrase", "another-long-passphrase"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="differ"):
        call_command("createmoderator", "--email=t@example.com")
    assert not User.objects.exists()


def test_createmoderator_without_terminal_or_password_refuses(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="--password"):
        call_command("createmoderator", "--email=t@example.com")
    assert not User.objects.exists()


def test_seed_demo_is_idempotent_and_prints_logins():
    first = io.StringIO()
    call_command("seed_demo", stdout=first)
    counts = User.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    # The three demo logins, and the demo course's classmates (its study groups fill up).
    from parta.learning.demo import CLASSMATES

    assert User.objects.count() == counts == 3 + len(CLASSMATES)
    text = first.getvalue()
    assert DEMO_STUDENT_EMAIL in text
    assert DEMO_MODERATOR_EMAIL in text
    assert DEMO_PASSWORD in text
    moderator = User.objects.get(email=DEMO_MODERATOR_EMAIL)
    assert moderator.check_password(DEMO_PASSWORD)
    assert User.objects.get(role=Role.STAFF).is_superuser
