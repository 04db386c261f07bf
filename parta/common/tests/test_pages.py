import re

import pytest
from django.db import DatabaseError
from django.urls import reverse

from parta.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_home_has_logo_footer_and_russian_by_default(client, settings):
    settings.PARTA_REPOSITORY_URL = "https://example.org/parta-repo"
    # A browser asking for English still gets the school's language by default.
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ru">' in html
    assert 'class="logo-mark"' in html
    assert "<svg" in html
    footer = re.search(r"<footer.*</footer>", html, re.S).group(0)
    assert '<a class="open-source" href="https://example.org/parta-repo"' in footer
    assert "Работает на Open Source" in footer
    assert "Войти" in html


def test_english_is_available_through_the_switch(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in html
    assert "Powered by Open Source" in html
    assert "Sign in" in html


@pytest.mark.parametrize(
    "url_name", ["account_signup", "account_request_login_code", "account_login"]
)
def test_auth_pages_wear_parta_layout(client, url_name):
    html = client.get(reverse(url_name)).content.decode()
    assert 'class="logo-mark"' in html
    assert "Работает на Open Source" in html


def test_profile_shows_the_users_data(client, django_assert_max_num_queries):
    user = UserFactory(full_name="Пётр Первый", phone="+79991234567", telegram_chat_id=7)
    client.force_login(user)
    with django_assert_max_num_queries(4):
        html = client.get(reverse("accounts:profile")).content.decode()
    assert "Пётр Первый" in html
    assert user.email in html
    assert "+7 999 123-45-67" in html


def test_profile_edit_with_bad_phone_shows_message_and_keeps_data(client):
    user = UserFactory(full_name="Kept", phone="")
    client.force_login(user)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("accounts:profile"), {"full_name": "Changed", "phone": "xyz"})
    assert response.status_code == 200
    assert "Enter a valid phone number" in response.content.decode()
    user.refresh_from_db()
    assert user.full_name == "Kept"


def test_unknown_page_is_a_parta_404(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Работает на Open Source" in response.content.decode()


def test_healthz_reports_the_database(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"]) == ("ok", True)
    assert body.get("redis", True) is True


def test_healthz_says_when_the_database_is_down(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("parta.common.views.connection.cursor", broken_cursor)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("unavailable", False)


def test_openapi_schema_is_valid_and_has_no_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/me/", "/api/v1/billing/orders/", "/api/v1/access/check/"):
        assert path in text


def test_home_lists_published_courses_only(client):
    from parta.catalog.tests.factories import CourseFactory

    CourseFactory(title="Открытый курс")
    CourseFactory(title="Черновик", is_published=False)
    html = client.get(reverse("home")).content.decode()
    assert "Открытый курс" in html
    assert "Черновик" not in html


def test_the_readme_lists_every_api_route():
    import re

    from django.conf import settings

    from parta.common.tests.test_hostile_input import routes

    readme = (settings.BASE_DIR / "README.md").read_text()
    api = [route for route in routes() if route.startswith("api/")]
    assert len(api) > 15

    def shown(route: str) -> str:
        # <id:pk> is written <id>, <id:course_id> <course_id>, <slug:slug> <slug>.
        return "/" + re.sub(
            r"<(?:\w+:)?(\w+)>", lambda m: "<id>" if m[1] == "pk" else f"<{m[1]}>", route
        )

    def listed(route: str) -> bool:
        return re.search(rf"`(?:[A-Z]+ )?{re.escape(shown(route))}`", readme) is not None

    assert [shown(route) for route in api if not listed(route)] == []
