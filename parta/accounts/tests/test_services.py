import pytest
from allauth.account.models import EmailAddress
from django.db import IntegrityError

from parta.accounts.models import Role, User
from parta.accounts.services import moderator_create, user_create, user_update_profile
from parta.accounts.tests.factories import UserFactory
from parta.common.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_user_create_normalises_email_name_and_phone():
    user = user_create(
        email="  Anna.Petrova@Example.COM ",
        full_name="  Анна   Петрова ",
        phone="8 (999) 123-45-67",
    )
    user.refresh_from_db()
    assert user.email == "anna.petrova@example.com"
    assert user.full_name == "Анна Петрова"
    assert user.phone == "+79991234567"
    assert user.role == Role.STUDENT
    assert not user.has_usable_password()


@pytest.mark.parametrize("phone", ["12", "not a phone", "+7 999", "+1 000 000 0000"])
def test_user_create_rejects_bad_phone_and_creates_nothing(phone):
    with pytest.raises(ValidationFailed) as exc:
        user_create(email="a@example.com", full_name="A B", phone=phone)
    assert "phone" in exc.value.errors
    assert not User.objects.exists()


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@", "@example.com", "a b@example.com"])
def test_user_create_rejects_malformed_email(email):
    with pytest.raises(ValidationFailed) as exc:
        user_create(email=email, full_name="A B")
    assert "email" in exc.value.errors
    assert not User.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 151])
def test_user_create_rejects_missing_or_long_full_name(name):
    with pytest.raises(ValidationFailed) as exc:
        user_create(email="a@example.com", full_name=name)
    assert "full_name" in exc.value.errors
    assert not User.objects.exists()


def test_user_create_duplicate_email_any_case_is_refused():
    original = user_create(email="same@example.com", full_name="First Person")
    with pytest.raises(ValidationFailed) as exc:
        user_create(email="SAME@example.com", full_name="Second Person")
    assert exc.value.errors == {"email": ["A user with this email already exists."]}
    assert User.objects.count() == 1
    original.refresh_from_db()
    assert original.full_name == "First Person"


def test_database_refuses_case_variant_duplicate_even_past_the_service():
    UserFactory(email="dup@example.com")
    with pytest.raises(IntegrityError):
        User.objects.create(email="DUP@example.com", full_name="Other")


def test_database_refuses_empty_full_name():
    with pytest.raises(IntegrityError):
        User.objects.create(email="x@example.com", full_name="")


def test_moderator_create_sets_password_role_and_verified_email():
    moderator = moderator_create(
        email="Teacher@Example.com", password="a-long-unusual-passphrase", full_name="Мария"
    )
    assert moderator.role == Role.MODERATOR
    assert moderator.check_password("a-long-unusual-passphrase")
    address = EmailAddress.objects.get(user=moderator)
    assert address.email == "teacher@example.com"
    assert address.verified
    assert address.primary


@pytest.mark.parametrize(
    "password", ["short", "1234567890123", "password123", "teacher@example.com"]
)
def test_moderator_create_refuses_weak_password_and_creates_nothing(password):
    with pytest.raises(ValidationFailed) as exc:
        moderator_create(email="teacher@example.com", password=password, full_name="Teacher")
    assert exc.value.errors["password"]
    assert not User.objects.exists()
    assert not EmailAddress.objects.exists()


def test_moderator_create_refuses_existing_email():
    UserFactory(email="taken@example.com")
    with pytest.raises(ValidationFailed) as exc:
        moderator_create(
            email="Taken@example.com", password="a-long-unusual-passphrase", full_name="T"
        )
    assert "already exists" in exc.value.errors["email"][0]
    assert User.objects.count() == 1


def test_update_profile_validates_and_keeps_old_data_on_error():
    user = UserFactory(full_name="Old Name", phone="+79990000000")
    with pytest.raises(ValidationFailed):
        user_update_profile(user=user, full_name="New Name", phone="garbage")
    user.refresh_from_db()
    assert (user.full_name, user.phone) == ("Old Name", "+79990000000")

    user_update_profile(user=user, full_name=" New  Name ", phone="+44 20 7946 0958")
    user.refresh_from_db()
    assert (user.full_name, user.phone) == ("New Name", "+442079460958")


def test_superuser_is_staff_role():
    admin = User.objects.create_superuser(email="Owner@Example.com", password="x" * 12)
    assert admin.role == Role.STAFF
    assert admin.is_staff
    assert admin.is_superuser
    assert admin.email == "owner@example.com"
    assert admin.full_name == "Owner"
