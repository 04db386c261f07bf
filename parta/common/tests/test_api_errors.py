"""Every answer under /api/ that is not a success has the one error shape, and the
schema documents those answers."""

import pytest
import yaml
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from parta.accounts.tests.factories import UserFactory
from parta.common.apis import flat_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=UserFactory()).key}")
    return client


def test_an_unknown_api_address_answers_json(api, client):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    # Pages keep the site's own 404 page.
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_a_missing_object_answers_in_the_error_shape(api):
    response = api.get("/api/v1/me/stats/999999/")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert "Course" not in body["detail"]  # no model names, a message for a person


def test_an_unexpected_failure_under_api_answers_json(api, monkeypatch):
    def broken(self, request):
        raise RuntimeError("boom")

    monkeypatch.setattr("parta.accounts.apis.MeApi.get", broken)
    api.raise_request_exception = False
    response = api.get("/api/v1/me/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "boom" not in response.content.decode()


def test_errors_in_list_items_are_named_by_their_place(api):
    response = api.post(
        "/api/v1/billing/orders/", {"items": [1, "x", 3, "y"], "currency": "RUB"}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"items.1", "items.3"}
    assert all(isinstance(messages, list) for messages in errors.values())


def test_flat_errors():
    assert flat_errors(["Give one."]) == {"non_field_errors": ["Give one."]}
    assert flat_errors({"a": ["x"], "b": {"c": ["y"]}, "d": [{}, {"e": ["z"]}]}) == {
        "a": ["x"],
        "b.c": ["y"],
        "d.1.e": ["z"],
    }


def test_the_schema_documents_error_answers(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {
        "detail",
        "code",
        "errors",
    }
    check = schema["paths"]["/api/v1/access/check/{course_id}/{user_id}/"]["get"]["responses"]
    assert set(check) == {"200", "401", "403", "404"}
    order = schema["paths"]["/api/v1/billing/orders/"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409"} <= set(order)
    assert order["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    courses = schema["paths"]["/api/v1/courses/"]["get"]["responses"]
    assert "401" not in courses  # the catalogue is public
