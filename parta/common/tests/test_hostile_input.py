"""Hostile input at every route of the URL resolver, as anonymous, a student and staff
(the demo site's data): a huge id in every id part of the path, a NUL byte in the path,
the query string and the body, and 1e99999999 and ids past 2^63 in JSON and form
bodies. Whatever is thrown gets a 4xx (or a page), never a server error."""

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from rest_framework.authtoken.models import Token

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.models import User
from parta.accounts.tests.factories import UserFactory
from parta.catalog.models import AnswerKind, Task
from parta.catalog.tests.factories import TaskFactory
from parta.common.testing.site import DEMO_EMAILS, demo_client

pytestmark = pytest.mark.django_db

HUGE = 2**63  # one past the largest id
PART = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
SKIP = ("accounts/logout/", "admin/logout/", "i18n/")
HOSTILE_FIELDS = {
    "answer": "1e99999999",
    "item": HUGE,
    "items": [HUGE],
    "order": HUGE,
    "order_id": HUGE,
    "grant": HUGE,
    "topup_entry": HUGE,
    "course": HUGE,
    "task": HUGE,
    "user": HUGE,
    "choice": HUGE,
    "choices": [HUGE],
    "limit": HUGE,
    "offset": HUGE,
    "client_key": "k",
}


def routes(patterns=None, prefix: str = "") -> list[str]:
    """Every route of the resolver as a template ("buy/<id:pk>/"); regex routes skipped."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and not route.startswith(SKIP):
            found.append(route)
    return found


def fill(route: str, *, ids: str, text: str) -> str:
    def value(match):
        converter = match.group("converter") or "str"
        if converter in ("int", "id"):
            return ids
        if converter == "uuid":
            return "00000000-0000-0000-0000-000000000000"
        if converter == "slug":
            return "algebra"
        return text

    return "/" + PART.sub(value, route)


def test_every_route_has_a_route():
    assert len(routes()) > 60
    assert "buy/<id:pk>/" in routes()


@pytest.mark.parametrize("who", ["anonymous", "student", "staff"])
def test_no_route_answers_hostile_input_with_a_server_error(who):
    client = demo_client(who)
    if who != "anonymous":
        user = User.objects.get(email=DEMO_EMAILS[who])
        token = Token.objects.get_or_create(user=user)[0].key
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    failures = []

    def expect(method: str, url: str, **kwargs):
        response = getattr(client, method)(url, **kwargs)
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {url} {kwargs.get('data', '')!r:.80}")
        return response

    task_ids = [str(pk) for pk in Task.objects.values_list("pk", flat=True)[:1]] or ["1"]
    for route in routes():
        huge = fill(route, ids=str(HUGE), text="x")
        plain = fill(route, ids=task_ids[0], text="x")
        expect("get", huge)
        expect("get", plain + "?q=%00&coupon=%00&page=%00")
        expect("get", fill(route, ids="1", text="%00"))
        expect("post", huge, data={"x": "1"})
        expect("post", plain, data=json.dumps(HOSTILE_FIELDS), content_type="application/json")
        expect("post", plain, data={**HOSTILE_FIELDS, "items": HUGE, "choices": HUGE})
        expect("post", plain, data={"q": "\x00"})
        expect(
            "post", plain, data=json.dumps({"coupon": "\u0000"}), content_type="application/json"
        )
        expect("patch", plain, data=json.dumps(HOSTILE_FIELDS), content_type="application/json")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "url",
    ["/students/?q=%00", "/buy/1/?coupon=%00", "/sandbox/checkout/%00/", "/api/v1/me/?x=%00"],
)
def test_a_nul_byte_is_refused_with_a_clear_message(url):
    client = demo_client("staff")
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_byte_in_a_json_body_is_a_400_in_the_api_shape():
    client = demo_client("student")
    response = client.post(
        "/api/v1/billing/orders/",
        {"items": [1], "coupon": "a\x00"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"


@pytest.mark.parametrize(
    "url", ["/buy/9223372036854775808/", "/api/v1/billing/orders/9223372036854775808/"]
)
def test_an_id_past_the_64_bit_range_is_a_404(url):
    assert demo_client("student").get(url).status_code == 404


def test_a_huge_number_answer_is_a_400_with_a_message(client):
    task = TaskFactory(kind=AnswerKind.NUMBER, answer_number=42, answer_text="")
    student = UserFactory()
    AccessGrantFactory(user=student, course=task.topic.course)
    client.force_login(student)
    client.cookies["django_language"] = "en"
    response = client.post(
        f"/api/v1/tasks/{task.pk}/answer/",
        {"answer": "1e99999999"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["answer"] == ["This number is too large."]
    page = reverse("learning:task", args=[task.topic.course.slug, task.pk])
    form = client.post(page, {"answer": "1e99999999"}, HTTP_HX_REQUEST="true")
    assert form.status_code < 500
    assert "This number is too large." in form.content.decode()
