import pytest
from django.core import signing

from parta.news.unsubscribe import SALT, unsubscribe_headers, unsubscribe_token
from parta.notifications.models import Preference

pytestmark = pytest.mark.django_db


def _path(token):
    return f"/news/unsubscribe/{token}/"


def test_get_shows_a_confirm_button_and_changes_nothing(client, student):
    token = unsubscribe_token(user=student, kind="news")
    response = client.get(_path(token))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<form method="post">' in page
    assert student.email in page
    assert not Preference.objects.exists()


def test_one_click_post_turns_news_email_off_without_signing_in(client, student):
    client.handler.enforce_csrf_checks = True  # a mail client has no CSRF token
    header = unsubscribe_headers(user=student, kind="news")["List-Unsubscribe"]
    url = header.strip("<>")
    path = url[url.index("/news/unsubscribe/") :]
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    pref = Preference.objects.get()
    assert (pref.user, pref.kind, pref.channel, pref.enabled) == (student, "news", "email", False)
    # Twice is the same.
    assert client.post(path).status_code == 200
    assert Preference.objects.count() == 1


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        signing.dumps({"u": 1, "k": "news", "c": "email"}, salt="another.salt"),
        signing.dumps({"u": 10**9, "k": "news", "c": "email"}, salt=SALT),
        signing.dumps({"u": 1, "k": "no_such_kind", "c": "email"}, salt=SALT),
        signing.dumps({"u": 1, "k": "news", "c": "pigeon"}, salt=SALT),
        signing.dumps(["a", "list"], salt=SALT),
    ],
)
def test_a_bad_link_says_so(client, student, token):
    for method in (client.get, client.post):
        response = method(_path(token))
        assert response.status_code == 404
        assert "not valid" in response.content.decode() or "недействительна" in (
            response.content.decode()
        )
    assert not Preference.objects.exists()
