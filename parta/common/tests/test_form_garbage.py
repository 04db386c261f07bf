"""Every form reachable by links, as a student, a moderator and staff (with the admin's
add and change pages), filled with garbage:
empty, too long, NUL bytes, wrong types, unknown choices, hidden fields tampered with.
Whatever a user types gets a page or a clear 4xx, never a server error."""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from parta.billing.models import Item
from parta.common.testing.site import crawl, demo_client

pytestmark = pytest.mark.django_db

GARBAGE = ["", " ", "x" * 5000, "\x00", "-1", "1e309", "٣", "<b>", "999999999999999999999"]
SKIP_ACTIONS = ("/accounts/logout", "/i18n/")


class Forms(HTMLParser):
    """The POST forms of a page: action and fields (name -> kind and current value)."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.forms: list[dict] = []
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "get").lower() == "post":
            self._form = {"action": attrs.get("action") or self.page_url, "fields": {}}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select", "textarea"):
            name = attrs.get("name")
            if name:
                kind = attrs.get("type", "text") if tag == "input" else tag
                self._form["fields"][name] = (kind, attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def forms_on(client: Client, urls: list[str]) -> list[dict]:
    found: dict[tuple, dict] = {}
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = Forms(url)
        parser.feed(response.content.decode())
        for form in parser.forms:
            if form["action"].startswith(SKIP_ACTIONS):
                continue
            found.setdefault((form["action"], tuple(sorted(form["fields"]))), form)
    return list(found.values())


def garbage_posts(form: dict):
    """One post per garbage value in every visible field, then one with the hidden
    fields tampered with too. File fields get a file that is not what they expect."""
    fields = {n: f for n, f in form["fields"].items() if n != "csrfmiddlewaretoken"}
    for value in [*GARBAGE, None]:
        data = {}
        for name, (kind, current) in fields.items():
            if kind == "file":
                continue
            if kind == "hidden" and value is not None:
                data[name] = current
            else:
                data[name] = value if value is not None else "\x00tampered"
        yield data


def admin_pages(client: Client, seen: dict[str, int]) -> list[str]:
    """The admin's add pages the walk found, and one change page per model."""
    pages = [url for url, status in seen.items() if status == 200 and url.endswith("/add/")]
    for url, status in seen.items():
        if status == 200 and re.fullmatch(r"/admin/\w+/\w+/", url):
            row = re.search(
                r'href="(/admin/\w+/\w+/\d+/change/)"', client.get(url).content.decode()
            )
            if row:
                pages.append(row.group(1))
    return pages


@pytest.mark.parametrize("who", ["student", "moderator", "staff"])
def test_garbage_in_any_form_never_gives_a_server_error(who):
    client = demo_client(who)
    items = list(Item.objects.order_by("id").values_list("id", flat=True))
    start = ["/", "/courses/", "/profile/", "/stats/", "/purchases/", "/balance/"]
    start += ["/workspace/", "/students/", *(f"/item/{pk}/" for pk in items)]
    # An open order, so the sandbox checkout page (Pay and Decline) is among the forms.
    checkout = client.get(f"/buy/{items[-1]}/").json()["url"]
    start.append(checkout.removeprefix("http://testserver"))
    seen = crawl(client, start + (["/admin/"] if who == "staff" else []))
    pages = [url for url, status in seen.items() if status == 200 and "/admin/" not in url]
    if who == "staff":
        pages += admin_pages(client, seen)
    forms = forms_on(client, pages)
    errors = []
    posts = 0
    for form in forms:
        for data in garbage_posts(form):
            response = client.post(form["action"], data)
            posts += 1
            if response.status_code >= 500:
                errors.append((form["action"], {k: v[:20] for k, v in data.items()}))
    assert errors == []
    # The forms really were found and filled (today: 6 for the student, whose solved
    # tasks show their answer instead of a form, 72 for the moderator, 101 for staff
    # with the admin's, each posted 10 times).
    actions = [form["action"] for form in forms]
    assert len(forms) >= {"student": 6, "moderator": 50, "staff": 70}[who], actions
    if who == "student":
        assert any("/tasks/" in action for action in actions), actions
    assert any("/checkout/" in action for action in actions), actions
    assert posts >= len(forms) * len(GARBAGE)
