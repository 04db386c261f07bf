import pytest
from rest_framework.test import APIClient

from parta.faq import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_the_faq_is_public_by_category_without_hidden_questions(
    api, faq, documents, payments, django_assert_num_queries
):
    with django_assert_num_queries(2):
        response = api.get("/api/v1/faq/")
    assert response.status_code == 200
    categories = response.json()["categories"]
    assert [c["title"] for c in categories] == ["Документы для поступления", "Оплата"]
    assert [e["question"] for e in categories[1]["entries"]] == ["Как оплатить курс картой?"]
    first = categories[0]["entries"][0]
    assert first == {
        "id": faq["documents"].pk,
        "question": "Какие документы нужны для поступления?",
        "answer": "Паспорт, аттестат и **СНИЛС**.",
        "answer_html": "<p>Паспорт, аттестат и <strong>СНИЛС</strong>.</p>",
    }
    for n in range(10):
        services.entry_create(category=payments, question=f"Вопрос {n}", answer="A")
    with django_assert_num_queries(2):
        assert len(api.get("/api/v1/faq/").json()["categories"][1]["entries"]) == 11


def test_search_finds_best_first_with_its_category(api, faq, documents, student):
    api.force_authenticate(student)  # signed in or not, the same answer
    body = api.get("/api/v1/faq/search/", {"q": "ДОКУМЕНТЫ"}).json()
    assert body["query"] == "ДОКУМЕНТЫ"
    assert body["words"] == ["документы"]
    assert body["all_words"] is True
    [result] = body["results"]
    assert result["id"] == faq["documents"].pk
    assert result["category"] == {"id": documents.pk, "title": "Документы для поступления"}
    body = api.get("/api/v1/faq/search/", {"q": "документы картой", "limit": 1}).json()
    assert body["all_words"] is False
    assert len(body["results"]) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "q"), ({"q": "  "}, "q"), ({"q": "я" * 201}, "q"), ({"q": "x", "limit": 0}, "limit"),
     ({"q": "x", "limit": 51}, "limit"), ({"q": "x", "limit": "many"}, "limit")],
)  # fmt: skip
def test_bad_search_input_is_a_400_in_the_error_shape(api, params, field):
    response = api.get("/api/v1/faq/search/", params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert list(body["errors"]) == [field]
    assert body["detail"]


def test_the_faq_is_in_the_schema_as_public(api):
    schema = api.get("/api/schema/?format=json").json()
    listing = schema["paths"]["/api/v1/faq/"]["get"]
    assert listing["operationId"] == "faq_list"
    assert "401" not in listing["responses"]
    search = schema["paths"]["/api/v1/faq/search/"]["get"]
    assert search["operationId"] == "faq_search"
    assert {p["name"]: p.get("required", False) for p in search["parameters"]} == {
        "q": True,
        "limit": False,
    }
    assert "FaqSearchOut" in str(search["responses"]["200"])
