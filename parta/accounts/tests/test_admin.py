import pytest
from django.urls import reverse

from parta.accounts.models import Role, User
from parta.accounts.tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def test_user_list_search_and_change_pages_open(staff_client):
    user = UserFactory(full_name="Искомый Ученик", phone="+79990001122")
    listing = staff_client.get(reverse("admin:accounts_user_changelist"), {"q": "+7999000"})
    assert listing.status_code == 200
    assert "Искомый Ученик" in listing.content.decode()
    change = staff_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert change.status_code == 200


def test_staff_adds_a_student_with_normalised_phone(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New@Example.com",
            "full_name": "Новый",
            "phone": "8 999 555 44 33",
            "role": "student",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.phone == "+79995554433"
    assert user.role == Role.STUDENT
    assert not user.has_usable_password()


def test_admin_add_with_bad_phone_shows_error(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {"email": "x@example.com", "full_name": "X", "phone": "nonsense", "role": "student"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phone"]
    assert not User.objects.filter(email="x@example.com").exists()
