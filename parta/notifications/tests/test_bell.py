"""The bell: the unread counter in the header, the list, marking read (own rows only),
the API, and the preferences form on the profile."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from parta.accounts.tests.factories import UserFactory
from parta.notifications.channels.base import Channel
from parta.notifications.models import Message, Preference, Status

pytestmark = pytest.mark.django_db


def _site_message(user, n: int, *, status=Status.SENT, channel=Channel.SITE, read=False):
    now = timezone.now()
    return Message.objects.create(
        user=user,
        kind="topic_opened",
        channel=channel,
        dedup_key=f"topic_opened:{n}",
        status=status,
        context={
            "topic_id": n,
            "topic": f"Тема {n}",
            "course": "Алгебра",
            "opens_at": now.isoformat(),
            "path": "/courses/algebra/",
        },
        created_at=now - timedelta(minutes=n),
        sent_at=now,
        read_at=now if read else None,
    )


@pytest.fixture
def student(client):
    user = UserFactory(language="ru")
    client.force_login(user)
    # The pages (and so the bell) speak the reader's chosen language.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return user


def test_only_delivered_site_rows_show_and_count(client, student):
    _site_message(student, 1)
    _site_message(student, 2, read=True)
    _site_message(student, 3, status=Status.QUEUED)
    _site_message(student, 4, channel=Channel.EMAIL)
    _site_message(UserFactory(), 5)
    html = client.get(reverse("notifications:list")).content.decode()
    assert "New topic: Тема 1" in html
    assert "New topic: Тема 2" in html
    assert "Тема 3" not in html
    assert "Тема 4" not in html
    assert "Тема 5" not in html
    assert html.index("Тема 1") < html.index("Тема 2")  # newest first
    assert html.count('class="notice unread"') == 1
    assert 'id="bell-count" class="bell-count">1<' in html


def test_bell_is_one_query_whatever_the_number_of_messages(
    client, student, django_assert_num_queries
):
    def header_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("learning:catalogue"))
        return [q["sql"] for q in captured.captured_queries if "notifications_message" in q["sql"]]

    assert len(header_queries()) == 1
    for n in range(30):
        _site_message(student, n)
    queries = header_queries()
    assert len(queries) == 1
    assert "COUNT" in queries[0].upper()


def test_list_query_count_does_not_grow(client, student, django_assert_max_num_queries):
    for n in range(3):
        _site_message(student, n)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("notifications:list")).status_code == 200
    for n in range(3, 45):
        _site_message(student, n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("notifications:list")).content.decode()
    assert html.count('class="notice unread"') == 20  # one page
    assert "?page=2" in html
    page3 = client.get(reverse("notifications:list"), {"page": 3}).content.decode()
    assert page3.count('<li class="notice') == 5


def test_bell_hidden_for_visitors(client):
    html = client.get(reverse("learning:catalogue")).content.decode()
    assert "bell-count" not in html
    assert client.get(reverse("notifications:list")).status_code == 302


def test_mark_one_read_then_go_on(client, student):
    message = _site_message(student, 1)
    response = client.post(
        reverse("notifications:read", args=[message.pk]), {"next": "/courses/algebra/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/courses/algebra/"
    message.refresh_from_db()
    assert message.read_at is not None


def test_next_outside_the_site_is_ignored(client, student):
    message = _site_message(student, 1)
    response = client.post(
        reverse("notifications:read", args=[message.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("notifications:list")


def test_marking_someone_elses_message_is_404_and_changes_nothing(client, student):
    theirs = _site_message(UserFactory(), 1)
    assert client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("api:notification-read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_only_touches_own_rows(client, student):
    for n in range(3):
        _site_message(student, n)
    theirs = _site_message(UserFactory(), 9)
    response = client.post(reverse("notifications:read-all"))
    assert response.status_code == 302
    assert not Message.objects.filter(user=student, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_htmx_mark_read_follows_the_redirect_and_updates_the_counter(client, student):
    message = _site_message(student, 1)
    _site_message(student, 2)
    response = client.post(
        reverse("notifications:read", args=[message.pk]),
        {"next": reverse("notifications:list")},
        headers={"HX-Request": "true"},
        follow=True,
    )
    html = response.content.decode()
    assert f'id="notice-{message.pk}"' in html
    assert 'id="bell-count" class="bell-count">1<' in html


def test_dropdown_shows_the_latest_and_the_counter_out_of_band(client, student):
    for n in range(7):
        _site_message(student, n)
    html = client.get(reverse("notifications:latest")).content.decode()
    assert html.count('class="bell-item unread"') == 5
    assert 'hx-swap-oob="true"' in html


def test_pages_have_no_inline_scripts_or_styles(client, student):
    _site_message(student, 1)
    for name in ("notifications:list", "notifications:preferences", "notifications:latest"):
        html = client.get(reverse(name)).content.decode()
        assert "style=" not in html
        assert "<script>" not in html
        assert "onclick" not in html


# --- API -------------------------------------------------------------------------------


def test_api_list_and_mark_read(client, student, django_assert_max_num_queries):
    first = _site_message(student, 1)
    _site_message(student, 2, read=True)
    _site_message(student, 3, status=Status.FAILED)
    body = client.get(reverse("api:notifications")).json()
    assert body["count"] == 2
    assert body["unread"] == 1
    assert [item["subject"] for item in body["results"]] == [
        "New topic: Тема 1",
        "New topic: Тема 2",
    ]
    assert body["results"][0]["unread"] is True
    assert body["results"][0]["path"] == "/courses/algebra/"
    assert client.post(reverse("api:notification-read", args=[first.pk])).status_code == 204
    assert client.get(reverse("api:notifications")).json()["unread"] == 0
    for n in range(10, 40):
        _site_message(student, n)
    with django_assert_max_num_queries(6):
        body = client.get(reverse("api:notifications"), {"limit": 10}).json()
    assert len(body["results"]) == 10
    assert body["next"]
    assert client.post(reverse("api:notifications-read-all")).json() == {"marked": 30}


def test_api_needs_sign_in(client):
    response = client.get(reverse("api:notifications"))
    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("not_authenticated", "authentication_failed")


def test_api_preferences_get_and_patch(client, student):
    body = client.get(reverse("api:notification-preferences")).json()
    receipt = next(row for row in body if row["kind"] == "receipt")
    assert receipt["mandatory"]
    assert all(c["locked"] for c in receipt["channels"])
    response = client.patch(
        reverse("api:notification-preferences"),
        {"preferences": [{"kind": "refund_done", "channel": "email", "enabled": False}]},
        content_type="application/json",
    )
    assert response.status_code == 200
    refund = next(row for row in response.json() if row["kind"] == "refund_done")
    assert {c["channel"]: c["enabled"] for c in refund["channels"]}["email"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "receipt", "channel": "email", "enabled": False}, "enabled"),
        ({"kind": "nope", "channel": "email", "enabled": False}, "kind"),
        ({"kind": "refund_done", "channel": "fax", "enabled": False}, "preferences.0.channel"),
        ({"kind": "refund_done", "channel": "email"}, "preferences.0.enabled"),
    ],
)
def test_api_preferences_refusals_are_400_with_the_field(client, student, change, field):
    response = client.patch(
        reverse("api:notification-preferences"),
        {"preferences": [change]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Preference.objects.filter(user=student).exists()


def test_api_schema_has_the_notifications_operations(client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    paths = schema["paths"]
    assert "get" in paths["/api/v1/notifications/"]
    assert "404" in paths["/api/v1/notifications/{id}/read/"]["post"]["responses"]
    assert "400" in paths["/api/v1/notifications/preferences/"]["patch"]["responses"]


# --- Preferences page and profile --------------------------------------------------------


def test_profile_shows_preferences_with_mandatory_disabled(client, student):
    html = client.get(reverse("accounts:profile")).content.decode()
    assert 'name="receipt:email" checked disabled' in html
    assert 'name="refund_done:email" checked>' in html


def test_plain_form_saves_unticked_boxes_as_off(client, student):
    response = client.post(
        reverse("notifications:preferences"),
        {"refund_done:site": "on", "next": reverse("accounts:profile")},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")
    stored = dict(
        Preference.objects.filter(user=student, kind="refund_done").values_list(
            "channel", "enabled"
        )
    )
    assert stored == {"site": True, "email": False, "telegram": False}
    # Receipts were not in the form, and are not switched off by it.
    assert not Preference.objects.filter(user=student, kind="receipt").exists()


def test_htmx_form_answers_with_the_form(client, student):
    response = client.post(
        reverse("notifications:preferences"), {}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith("<form")
    assert "Saved." in html
