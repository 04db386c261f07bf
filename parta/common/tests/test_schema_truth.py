"""The API accepts what its schema says, and the schema says what the API accepts."""

import pytest
from rest_framework.test import APIClient

from parta.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def me():
    user = UserFactory(full_name="Keep Me", phone="+79991112233")
    api = APIClient()
    api.force_authenticate(user)
    return user, api


@pytest.mark.parametrize("format", ["multipart", "json"])
def test_patch_me_with_an_empty_name_is_a_400_and_changes_nothing(me, format):
    user, api = me
    response = api.patch("/api/v1/me/", {"full_name": ""}, format=format)
    assert response.status_code == 400
    assert "full_name" in response.json()["errors"]
    user.refresh_from_db()
    assert (user.full_name, user.phone) == ("Keep Me", "+79991112233")


@pytest.mark.parametrize("format", ["multipart", "json"])
def test_patch_me_changes_only_what_was_sent(me, format):
    user, api = me
    assert api.patch("/api/v1/me/", {"phone": "+79991112244"}, format=format).status_code == 200
    user.refresh_from_db()
    assert (user.full_name, user.phone) == ("Keep Me", "+79991112244")
    assert api.patch("/api/v1/me/", {"full_name": "New Name"}, format=format).status_code == 200
    user.refresh_from_db()
    assert (user.full_name, user.phone) == ("New Name", "+79991112244")
    assert api.patch("/api/v1/me/", {"phone": ""}, format=format).status_code == 200
    user.refresh_from_db()
    assert (user.full_name, user.phone) == ("New Name", "")


@pytest.fixture
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _body(schema, path, method="post"):
    ref = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def _enum(schema, prop):
    if "$ref" in prop:
        return schema["components"]["schemas"][prop["$ref"].rsplit("/", 1)[1]]["enum"]
    values = []
    for part in prop.get("oneOf", [prop]):
        values += _enum(schema, part) if "$ref" in part else part.get("enum", [])
    return values


def test_the_schema_states_currencies_ranges_and_shapes(schema, settings):
    currencies = list(settings.PARTA_CURRENCIES)
    orders = _body(schema, "/api/v1/billing/orders/")
    assert _enum(schema, orders["properties"]["currency"]) == currencies
    assert orders["properties"]["items"]["items"]["maximum"] == 2**63 - 1
    assert orders["properties"]["items"]["items"]["minimum"] == 1
    topup = _body(schema, "/api/v1/billing/top-ups/")
    assert _enum(schema, topup["properties"]["currency"]) == currencies
    assert topup["properties"]["amount"]["minimum"] == 1
    assert topup["properties"]["amount"]["maximum"] == 100_000_000
    buy = _body(schema, "/api/v1/billing/buy/")
    assert set(_enum(schema, buy["properties"]["currency"])) >= {*currencies, ""}
    refund = _body(schema, "/api/v1/billing/refunds/")
    assert len(refund["oneOf"]) == 2
    me = _body(schema, "/api/v1/me/", "patch")
    assert me["properties"]["full_name"]["pattern"] == "\\S"


def test_the_api_accepts_the_schemas_largest_top_up_and_refuses_one_more(me):
    _user, api = me
    largest = 1_000_000 * 100
    ok = api.post("/api/v1/billing/top-ups/", {"amount": largest, "currency": "RUB"})
    assert ok.status_code == 201, ok.content
    too_much = api.post("/api/v1/billing/top-ups/", {"amount": largest + 1, "currency": "RUB"})
    assert too_much.status_code == 400
    unknown = api.post("/api/v1/billing/top-ups/", {"amount": 100, "currency": "XXX"})
    assert unknown.status_code == 400
    assert "currency" in unknown.json()["errors"]
