import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from parta.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ME = reverse("api:me")


@pytest.fixture
def api():
    return APIClient()


def test_me_needs_authentication(api):
    response = api.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["detail"]


def test_me_with_session(api):
    user = UserFactory(email="me@example.com", full_name="Я Сам", phone="+79990001122")
    api.force_login(user)
    body = api.get(ME).json()
    assert body == {
        "id": user.id,
        "email": "me@example.com",
        "full_name": "Я Сам",
        "phone": "+79990001122",
        "role": "student",
        "telegram_linked": False,
        "created_at": body["created_at"],
    }
    assert body["created_at"]


def test_me_with_service_token(api):
    user = UserFactory()
    token = Token.objects.create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(ME).json()["id"] == user.id
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.get(ME).status_code == 401


def test_me_update_normalises_phone(api):
    user = UserFactory(full_name="Old")
    api.force_login(user)
    response = api.patch(ME, {"full_name": "New  Name", "phone": "8 999 000 11 22"}, format="json")
    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name"
    assert response.json()["phone"] == "+79990001122"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"phone": "abc"}, "phone"),
        ({"full_name": "  "}, "full_name"),
        ({"full_name": "x" * 200}, "full_name"),
    ],
)
def test_me_update_bad_input_is_400_with_message_and_changes_nothing(api, payload, field):
    user = UserFactory(full_name="Kept", phone="+79990001122")
    api.force_login(user)
    response = api.patch(ME, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert field in body["errors"]
    assert body["detail"]
    user.refresh_from_db()
    assert (user.full_name, user.phone) == ("Kept", "+79990001122")


def test_schema_and_docs(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/me/" in paths
    assert {"get", "patch"} <= set(paths["/api/v1/me/"])
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
