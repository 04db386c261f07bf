import io
from datetime import datetime

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from parta.accounts.models import User
from parta.accounts.tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
EXPORT = reverse("accounts:registrations-export")


def _sheet_rows(response):
    body = b"".join(response.streaming_content)
    workbook = load_workbook(io.BytesIO(body), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_staff_downloads_current_registrations(client):
    staff = StaffFactory(email="owner@example.com", full_name="Owner")
    linked = UserFactory(
        email="a@example.com", full_name="Анна А", phone="+79990001122", telegram_chat_id=42
    )
    UserFactory(email="b@example.com", full_name="Борис Б")
    client.force_login(staff)
    client.cookies["django_language"] = "en"

    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows = _sheet_rows(response)
    assert rows[0] == ["Email", "Full name", "Phone", "Role", "Registered at", "Telegram linked"]
    by_email = {row[0]: row for row in rows[1:]}
    assert set(by_email) == {"owner@example.com", "a@example.com", "b@example.com"}
    assert by_email["a@example.com"][1:4] == ["Анна А", "+79990001122", "Student"]
    assert by_email["a@example.com"][5] == "yes"
    assert by_email["b@example.com"][5] == "no"
    assert isinstance(by_email["a@example.com"][4], datetime)
    assert linked.created_at is not None

    # Always current: a user registered a moment later is in the next download.
    UserFactory(email="c@example.com")
    assert len(_sheet_rows(client.get(EXPORT))) == 5


def test_export_query_count_does_not_grow_with_users(client, django_assert_num_queries):
    staff = StaffFactory()
    client.force_login(staff)
    UserFactory.create_batch(3)
    with django_assert_num_queries(3) as small:
        b"".join(client.get(EXPORT).streaming_content)
    UserFactory.create_batch(40)
    with django_assert_num_queries(len(small.captured_queries)):
        b"".join(client.get(EXPORT).streaming_content)


@pytest.mark.parametrize("who", ["anonymous", "student", "moderator"])
def test_export_is_for_staff_only(client, who):
    if who != "anonymous":
        role_user = UserFactory(role=who)
        client.force_login(role_user)
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_admin_action_exports_only_the_selection(client):
    staff = StaffFactory()
    chosen = UserFactory.create_batch(2)
    UserFactory.create_batch(3)
    client.force_login(staff)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "export_selected", "_selected_action": [u.pk for u in chosen]},
    )
    assert response.status_code == 200
    rows = _sheet_rows(response)
    assert sorted(row[0] for row in rows[1:]) == sorted(u.email for u in chosen)
    assert User.objects.count() == 6
