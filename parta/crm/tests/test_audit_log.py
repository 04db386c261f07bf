"""/crm/audit/ and /api/v1/crm/audit/: staff only, newest first, filters (bad ones are
a message, not a 500), pages, and a query count that does not grow with the entries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.audit.models import AuditEntry
from parta.audit.selectors import audit_for_subject
from parta.audit.services import record
from parta.common.time import school_tz

pytestmark = pytest.mark.django_db

URL = "/crm/audit/"
API = "/api/v1/crm/audit/"


@pytest.fixture
def staff():
    return StaffFactory(email="owner@example.com")


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def staff_client(en, staff):
    en.force_login(staff)
    return en


def entry(*, actor=None, action="catalog.course_update", at=None, subject=None, **fields):
    """A hand-built entry (inserting is all the log allows)."""
    return AuditEntry.objects.create(
        created_at=at or timezone.now(),
        actor=actor,
        actor_label=str(actor) if actor else "",
        actor_role=("staff" if actor.is_school_staff else actor.role) if actor else "",
        action=action,
        subject=subject,
        **fields,
    )


def shown(response) -> list[int]:
    return [e.pk for e in response.context["entries"]]


@pytest.fixture
def people():
    return {
        "staff": StaffFactory(email="boss@example.com"),
        "moderator": ModeratorFactory(email="mod@example.com"),
        "anna": UserFactory(email="anna@example.com", full_name="Анна"),
        "boris": UserFactory(email="boris@example.com", full_name="Борис"),
    }


@pytest.fixture
def entries(people):
    zone = school_tz()
    day = datetime(2026, 3, 10, 12, 0, tzinfo=zone)
    return {
        "grant": entry(
            actor=people["staff"],
            action="access.grant",
            object_type="access.accessgrant",
            object_id="7",
            subject=people["anna"],
            at=day,
        ),
        "move": entry(
            actor=people["moderator"],
            action="groups.move",
            object_type="groups.membership",
            object_id="3",
            subject=people["boris"],
            at=day + timedelta(days=1),
        ),
        "course": entry(
            actor=people["moderator"],
            action="catalog.course_update",
            object_type="catalog.course",
            object_id="1",
            before={"title": "Old"},
            after={"title": "New"},
            reason="typo",
            at=day + timedelta(days=2),
        ),
        # 23:30 school time on the 13th: still the 13th there, already the 13th in UTC too.
        "late": entry(
            actor=people["staff"],
            action="catalog.lesson_delete",
            object_type="catalog.lesson",
            object_id="9",
            at=datetime(2026, 3, 13, 23, 30, tzinfo=zone),
        ),
    }


def test_newest_first_with_who_what_change_and_reason(staff_client, entries):
    response = staff_client.get(URL)
    assert response.status_code == 200
    assert shown(response) == [
        entries["late"].pk,
        entries["course"].pk,
        entries["move"].pk,
        entries["grant"].pk,
    ]
    html = response.content.decode()
    assert "Course changed" in html
    assert "catalog.course_update" in html
    assert "Old" in html
    assert "New" in html
    assert "typo" in html
    assert "anna@example.com" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"actor": "boss@example.com"}, ["late", "grant"]),
        ({"actor": "MOD@example.com"}, ["course", "move"]),
        ({"action": "groups.move"}, ["move"]),
        ({"action": "catalog."}, ["late", "course"]),
        ({"object_type": "catalog.course"}, ["course"]),
        ({"object_type": "catalog.lesson", "object_id": "9"}, ["late"]),
        ({"subject": "anna@example.com"}, ["grant"]),
        ({"date_from": "2026-03-11", "date_to": "2026-03-12"}, ["course", "move"]),
        ({"date_from": "2026-03-13"}, ["late"]),
        ({"date_to": "2026-03-10"}, ["grant"]),
        ({"actor": "mod@example.com", "action": "catalog."}, ["course"]),
        ({"action": "billing."}, []),
    ],
)
def test_filters(staff_client, entries, query, expected):
    response = staff_client.get(URL, query)
    assert response.status_code == 200
    assert shown(response) == [entries[name].pk for name in expected]


def test_filters_by_person_id(staff_client, entries, people):
    response = staff_client.get(URL, {"subject": str(people["boris"].pk)})
    assert shown(response) == [entries["move"].pk]
    response = staff_client.get(URL, {"actor": str(people["moderator"].pk)})
    assert shown(response) == [entries["course"].pk, entries["move"].pk]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"actor": "not an email"}, "actor", "Enter a person's email or id."),
        ({"subject": "x" * 300}, "subject", "at most 254"),
        ({"action": "DROP TABLE"}, "action", "An action looks like"),
        ({"object_type": "course"}, "object_type", "An object type looks like"),
        ({"date_from": "2026-13-45"}, "date_from", "Enter a valid date."),
        ({"date_from": "2026-03-12", "date_to": "2026-03-11"}, "date_to", "before the start"),
        ({"page": "0"}, "page", "greater than or equal to 1"),
        ({"page": "many"}, "page", "Enter a whole number."),
        ({"subject": "99999999999999999999999"}, "subject", "email or id"),
    ],
)
def test_bad_filters_are_a_message_and_list_nothing(staff_client, entries, query, field, message):
    response = staff_client.get(URL, query)
    assert response.status_code == 200
    assert shown(response) == []
    assert message in " ".join(response.context["form"].errors[field])
    assert "Correct the filters" in response.content.decode()


def test_pages_of_fifty_with_links_that_keep_the_filters(staff_client, people):
    for n in range(51):
        entry(
            actor=people["staff"],
            action="news.post_update",
            at=timezone.now() - timedelta(minutes=n),
        )
    entry(actor=people["staff"], action="faq.entry_update")
    first = staff_client.get(URL, {"action": "news."})
    assert len(first.context["entries"]) == 50
    assert first.context["older_url"] == "?action=news.&page=2"
    assert first.context["newer_url"] == ""
    second = staff_client.get(URL, {"action": "news.", "page": 2})
    assert len(second.context["entries"]) == 1
    assert second.context["older_url"] == ""
    assert second.context["newer_url"] == "?action=news.&page=1"


@pytest.mark.parametrize("count", [1, 30])
def test_the_page_takes_the_same_queries_for_1_and_30_entries(
    staff_client, people, count, django_assert_num_queries
):
    for n in range(count):
        client = UserFactory()
        entry(
            actor=people["moderator"],
            action="groups.attendance_mark",
            subject=client,
            before={"attended": None},
            after={"attended": True},
            at=timezone.now() - timedelta(seconds=n),
        )
    staff_client.get(URL)  # the session and the user are read once per request anyway
    # Session, user, the entries with their clients; the header's inbox count and bell.
    with django_assert_num_queries(5):
        response = staff_client.get(URL, {"action": "groups."})
    assert len(response.context["entries"]) == count


def test_moderators_and_students_get_403_visitors_sign_in(en):
    en.force_login(ModeratorFactory())
    assert en.get(URL).status_code == 403
    en.force_login(UserFactory())
    assert en.get(URL).status_code == 403
    en.logout()
    response = en.get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"] or "accounts" in response["Location"]


def test_the_client_card_selector_lists_their_entries_newest_first(
    people, entries, django_assert_num_queries
):
    anna = people["anna"]
    newer = entry(actor=people["staff"], action="billing.refund", subject=anna)
    with django_assert_num_queries(1):
        found = audit_for_subject(subject=anna)
    assert [e.pk for e in found] == [newer.pk, entries["grant"].pk]
    assert [e.pk for e in audit_for_subject(subject=anna, limit=1)] == [newer.pk]


def test_an_entry_written_by_a_service_shows_on_the_page(staff_client, staff):
    student = UserFactory(email="client@example.com")
    with transaction.atomic():
        record(actor=staff, action="accounts.block", obj=student, subject=student, reason="spam")
    html = staff_client.get(URL, {"subject": "client@example.com"}).content.decode()
    assert "Person blocked" in html
    assert "spam" in html


# --- the API ------------------------------------------------------------------------


def _token(user) -> str:
    return "Token " + Token.objects.create(user=user).key


def test_the_api_lists_with_the_same_filters_for_staff_tokens(client, entries, people):
    response = client.get(
        API, {"action": "catalog.", "limit": 1}, HTTP_AUTHORIZATION=_token(people["staff"])
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [entries["late"].pk]
    response = client.get(
        API, {"subject": "anna@example.com"}, HTTP_AUTHORIZATION=_token(people["moderator"])
    )
    assert response.status_code == 403


def test_the_api_refuses_bad_filters_with_400_and_the_fields(client, people):
    response = client.get(
        API,
        {"date_from": "yesterday", "actor": "nobody"},
        HTTP_AUTHORIZATION=_token(people["staff"]),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert set(body["errors"]) == {"date_from", "actor"}


def test_the_api_shows_one_entry_in_full(client, entries, people):
    client.cookies["django_language"] = "en"
    response = client.get(
        API, {"object_type": "catalog.course"}, HTTP_AUTHORIZATION=_token(people["staff"])
    )
    (row,) = response.json()["results"]
    assert row["action"] == "catalog.course_update"
    assert row["action_label"] == "Course changed"
    assert (row["before"], row["after"], row["reason"]) == (
        {"title": "Old"},
        {"title": "New"},
        "typo",
    )
    assert row["actor"] == people["moderator"].pk


def test_students_and_visitors_get_no_api(client):
    assert client.get(API).status_code in (401, 403)
    response = client.get(API, HTTP_AUTHORIZATION=_token(UserFactory()))
    assert response.status_code == 403


def test_the_schema_has_the_audit_and_settings_endpoints(client):
    schema = client.get(reverse("api-schema")).content.decode()
    assert "/api/v1/crm/audit/" in schema
    assert "/api/v1/crm/settings/" in schema
    assert "crm_audit_list" in schema


@pytest.mark.parametrize("count", [1, 30])
def test_the_api_takes_the_same_queries_for_1_and_30_entries(
    client, people, count, django_assert_num_queries
):
    for n in range(count):
        entry(
            actor=people["moderator"],
            action="groups.attendance_mark",
            subject=UserFactory(),
            at=timezone.now() - timedelta(seconds=n),
        )
    auth = _token(people["staff"])
    # The token with its user, the count, the page with its clients.
    with django_assert_num_queries(3):
        response = client.get(API, {"action": "groups."}, HTTP_AUTHORIZATION=auth)
    assert response.json()["count"] == count
