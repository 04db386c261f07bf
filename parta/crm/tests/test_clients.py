"""The CRM's clients list: statuses and their reasons, filters, search, sorting, money for
staff only, the Excel export, the API, and the page's query count."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone, translation

from parta.accounts.models import Role, User
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.time import school_today, school_tz
from parta.crm import status as st
from parta.crm.clients import ClientFilters, clients_list, clients_page
from parta.crm.tests.clients_data import build_clients, course_grant, paid_order, plan_grant
from parta.learning.models import DailyActivity

pytestmark = pytest.mark.django_db

URL = "/crm/clients/"
EXPORT_URL = "/crm/clients/export/"
API_URL = "/api/v1/crm/clients/"


@pytest.fixture
def data():
    return build_clients()


@pytest.fixture
def staff(client):
    user = StaffFactory(full_name="Владелец Школы")
    client.force_login(user)
    return user


def emails(filters: ClientFilters, *, per_page: int = 100) -> set[str]:
    page = clients_page(filters=filters, per_page=per_page)
    return {row.user.email for row in page.object_list}


ALL = {
    "anna@example.com",
    "boris@example.com",
    "vera@example.com",
    "gleb@example.com",
    "darya@example.com",
    "egor@example.com",
    "zhanna@example.com",
    "zoya@example.com",
}


# --- Statuses ---------------------------------------------------------------------------


def test_status_filters_find_each_state(data):
    assert emails(ClientFilters()) == ALL  # staff and moderators are not clients
    assert emails(ClientFilters(status="active")) == {
        "anna@example.com",
        "boris@example.com",
        "vera@example.com",
    }
    assert emails(ClientFilters(status="expiring")) == {"vera@example.com"}
    assert emails(ClientFilters(status="frozen")) == {"gleb@example.com"}
    assert emails(ClientFilters(status="expired")) == {"darya@example.com", "egor@example.com"}
    assert emails(ClientFilters(status="never_paid")) == {
        "vera@example.com",  # free access given by staff
        "darya@example.com",
        "zhanna@example.com",
    }


def test_filter_and_annotation_agree(data):
    """The WHERE rules (EXISTS) and the annotated status say the same for everyone."""
    today = school_today()
    now = timezone.now()
    users, _count = clients_list(filters=ClientFilters(), today=today, now=now)
    shown = {u.email: u.crm_status for u in users}
    for status in (st.ACTIVE, st.EXPIRING, st.FROZEN, st.EXPIRED):
        matched = set(
            User.objects.filter(role=Role.STUDENT)
            .filter(st.status_q(status, today=today, now=now))
            .values_list("email", flat=True)
        )
        expected = {email for email, value in shown.items() if value == status}
        if status == st.ACTIVE:
            expected |= {email for email, value in shown.items() if value == st.EXPIRING}
        assert matched == expected, status
    assert shown["zhanna@example.com"] == st.NONE
    assert shown["zoya@example.com"] == st.NONE


def test_reasons_in_russian(data):
    today = school_today()
    now = timezone.now()

    def short(moment):
        day = moment.astimezone(school_tz()).date()
        return day.strftime("%d.%m") if day.year == today.year else day.strftime("%d.%m.%Y")

    with translation.override("ru"):
        rows = {r.user.email: r for r in clients_page(filters=ClientFilters()).object_list}
        assert rows["anna@example.com"].reason == (
            f"план «Полгода» до {short(now + timedelta(days=60))}"
        )
        assert rows["boris@example.com"].reason == "курс «Алгебра» бессрочно и ещё 1 курс"
        assert rows["vera@example.com"].reason == (
            f"курс «Геометрия» до {short(now + timedelta(days=1))}, остался 1 день"
        )
        assert rows["gleb@example.com"].reason == (
            f"заморожен до {short(now + timedelta(days=10))}"
        )
        assert rows["darya@example.com"].reason == f"истёк {short(now - timedelta(days=5))}"
        assert rows["egor@example.com"].reason == f"доступ отключён {short(now)}"
        assert rows["zhanna@example.com"].reason == "не платил"
        assert rows["zoya@example.com"].reason == "нет доступа"
        assert rows["vera@example.com"].status_label == "Истекает"


def test_russian_plurals_of_more_courses_and_days(data):
    user = data.never_paid
    now = timezone.now()
    for course in [data.algebra, data.geometry, CourseFactory(), CourseFactory(), CourseFactory()]:
        course_grant(user, course, until=now + timedelta(days=5))
    with translation.override("ru"):
        row = next(r for r in clients_page(filters=ClientFilters(search="zhanna")).object_list)
    assert row.status == st.EXPIRING
    assert row.reason.endswith("и ещё 4 курса, осталось 5 дней")


def test_expiring_tomorrow_is_also_active_and_ends_first(data):
    page = clients_page(filters=ClientFilters(status="active", sort="until"))
    assert page.object_list[0].user.email == "vera@example.com"


# --- Other filters, search, sorting -----------------------------------------------------


def test_course_group_plan_filters(data):
    assert emails(ClientFilters(course_id=data.geometry.pk)) == {
        "boris@example.com",
        "vera@example.com",
        "darya@example.com",
    }
    assert emails(ClientFilters(group_id=data.group.pk)) == {"boris@example.com"}
    assert emails(ClientFilters(plan_id=data.half_year.pk)) == {
        "anna@example.com",
        "boris@example.com",
        "gleb@example.com",
        "egor@example.com",
    }
    assert emails(ClientFilters(plan_id=data.half_year.pk, status="frozen")) == {
        "gleb@example.com"
    }


def test_registration_and_activity_filters(data):
    today = school_today()
    User.objects.filter(email="zhanna@example.com").update(
        created_at=timezone.now() - timedelta(days=40)
    )
    assert "zhanna@example.com" not in emails(
        ClientFilters(registered_from=today - timedelta(days=3))
    )
    assert emails(ClientFilters(registered_to=today - timedelta(days=30))) == {
        "zhanna@example.com"
    }
    assert emails(ClientFilters(active_from=today - timedelta(days=2))) == {"anna@example.com"}
    assert emails(ClientFilters(active_to=today - timedelta(days=5))) == {"vera@example.com"}


@pytest.mark.parametrize("typed", ["8 912 345-67-89", "+7 (912) 345-67-89", "9123456789"])
def test_phone_search_in_any_format(data, typed):
    assert emails(ClientFilters(search=typed)) == {"anna@example.com"}


def test_search_by_name_and_email(data):
    assert emails(ClientFilters(search="борис")) == {"boris@example.com"}
    assert emails(ClientFilters(search="GLEB@EXAMPLE")) == {"gleb@example.com"}


def test_sorting(data):
    def order(sort):
        return [r.user.email for r in clients_page(filters=ClientFilters(sort=sort)).object_list]

    by_name = order("name")
    assert by_name[0] == "anna@example.com"
    assert by_name[-1] == "zoya@example.com"
    assert order("-name") == list(reversed(by_name))
    User.objects.filter(email="darya@example.com").update(
        created_at=timezone.now() + timedelta(hours=1)
    )
    assert order("-registered")[0] == "darya@example.com"
    assert order("-activity")[:2] == ["anna@example.com", "vera@example.com"]
    # chronological: ended access first (Дарья 5 days ago, Егор today), then Вера tomorrow
    assert order("until")[:3] == ["darya@example.com", "egor@example.com", "vera@example.com"]


# --- The page -----------------------------------------------------------------------------


def test_page_shows_statuses_reasons_and_balances_to_staff(client, staff, data):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Глеб Замороженный" in html
    assert "заморожен до" in html
    assert "не платил" in html
    assert "500\u00a0₽" in html  # Зоя's balance, formatted with the money filter
    assert reverse("crm:clients-export") in html
    assert "8 клиентов" in html


def test_page_with_htmx_returns_the_results_only(client, staff, data):
    response = client.get(URL, {"status": "frozen"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="clients-results"')
    assert "Глеб Замороженный" in html
    assert "Анна Планова" not in html


def test_moderator_sees_no_money(client, data):
    client.force_login(ModeratorFactory())
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Глеб Замороженный" in html
    assert "₽" not in html
    assert "Баланс" not in html
    assert reverse("crm:clients-export") not in html
    assert client.get(EXPORT_URL).status_code == 403
    body = client.get(API_URL).json()
    assert body["count"] == 8
    assert all("balances" not in row for row in body["results"])


def test_student_gets_403_and_a_visitor_signs_in(client, data):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]
    assert client.get(EXPORT_URL).status_code == 302
    client.force_login(data.active_plan)
    assert client.get(URL).status_code == 403
    assert client.get(EXPORT_URL).status_code == 403
    assert client.get(API_URL).status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "Статус"),
        ({"course": "abc"}, "Курс"),
        ({"course": "99999999999999999999999"}, "Курс"),
        ({"group": "-1"}, "Группа"),
        ({"registered_from": "31.02.2025"}, "Зарегистрирован с"),
        ({"active_from": "2026-05-01", "active_to": "2026-04-01"}, "Активен до"),
        ({"sort": "price"}, "Сортировка"),
    ],
)
def test_bad_filters_get_a_message(client, staff, data, params, field):
    response = client.get(URL, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert field in html
    api = client.get(API_URL, params)
    assert api.status_code == 400
    assert api.json()["code"] == "validation_failed"
    assert client.get(EXPORT_URL, params).status_code == 400


def test_pages_and_a_page_past_the_end(client, staff, data):
    page = clients_page(filters=ClientFilters(), per_page=3, page=3)
    assert page.number == 3
    assert len(page.object_list) == 2
    assert client.get(URL, {"page": "999"}).status_code == 200
    assert client.get(URL, {"page": "x"}).status_code == 200


# --- Query counts -----------------------------------------------------------------------


def _clients_with_history(n: int, course, item, plan_item) -> None:
    now = timezone.now()
    for i in range(n):
        user = UserFactory(full_name=f"Клиент {i:02d}")
        plan_grant(user, plan_item, course, days=300, amount=5000)
        for days in (3, 20, 200):
            course_grant(user, course, until=now + timedelta(days=days))
        course_grant(user, course, until=now - timedelta(days=3), started_days_ago=90)
        for _ in range(3):
            paid_order(user, item, amount=1000)
        DailyActivity.objects.create(user=user, course=course, day=now.date(), tasks_solved=1)


@pytest.mark.parametrize("clients_count", [1, 20])
def test_query_count_does_not_grow(client, staff, django_assert_num_queries, clients_count):
    from parta.billing.tests.factories import CourseItemFactory, PlanFactory, PlanItemFactory

    item = CourseItemFactory()
    plan_item = PlanItemFactory(plan=PlanFactory(courses=[item.course]))
    _clients_with_history(clients_count, item.course, item, plan_item)
    client.get(URL)  # session and caches warmed
    # session, user; count, page, grants, plans, balances; the header's two counters;
    # the form's three lists (courses, groups, plans)
    with django_assert_num_queries(12) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    assert response.content.decode().count("план «") == clients_count
    assert any("billing_orderline" in q["sql"] for q in captured.captured_queries)
    # the sort by status end shows the plan's grant too (every client is on it)
    with django_assert_num_queries(12):
        response = client.get(URL, {"status": "active", "q": "Клиент", "sort": "-until"})
    assert response.status_code == 200
    # the API: session, user, count, page, grants, plans, balances
    with django_assert_num_queries(7):
        assert client.get(API_URL).json()["count"] == clients_count


# --- Export -------------------------------------------------------------------------------


def test_export_has_the_rows_and_totals(client, staff, data):
    response = client.get(EXPORT_URL, {"status": "active"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("ФИО", "Email", "Телефон")
    assert "Оплачено, RUB" in header
    assert "Оплачено, USD" in header
    assert "Возвраты, RUB" in header
    assert "Баланс, RUB" in header
    body = {row[1]: row for row in rows[1:-1]}
    assert set(body) == {"anna@example.com", "boris@example.com", "vera@example.com"}
    paid_rub = header.index("Оплачено, RUB")
    paid_usd = header.index("Оплачено, USD")
    assert body["boris@example.com"][paid_rub] == 18000
    assert body["boris@example.com"][paid_usd] == 50
    assert body["vera@example.com"][paid_rub] is None
    assert body["anna@example.com"][header.index("Статус")] == "Активен"
    total = rows[-1]
    assert total[0] == "Итого"
    assert total[paid_rub] == 36000
    assert total[paid_usd] == 50


def test_export_counts_refunds(client, staff, data):
    response = client.get(EXPORT_URL, {"q": "egor"})
    rows = list(
        openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(
            values_only=True
        )
    )
    header = rows[0]
    assert len(rows) == 3
    assert rows[1][header.index("Возвраты, RUB")] == 6000
    assert rows[1][header.index("Статус")] == "Истёк"


# --- API ------------------------------------------------------------------------------------


def test_api_lists_with_filters_and_money_for_staff(client, staff, data):
    body = client.get(API_URL, {"status": "expired", "limit": 1}).json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    assert body["next"]
    assert body["previous"] is None
    body = client.get(API_URL, {"q": "zoya"}).json()
    (row,) = body["results"]
    assert row["status"] == "none"
    assert row["balances"] == [{"amount": 50000, "currency": "RUB", "formatted": "500\u00a0₽"}]
    assert client.get(API_URL, {"limit": "0"}).status_code == 400


def test_api_with_a_token(data):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=StaffFactory())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(API_URL, {"status": "frozen"}).json()["count"] == 1
    assert APIClient().get(API_URL).status_code == 401


def test_api_is_in_the_schema(client, staff):
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/crm/clients/" in schema
    assert "crm_clients_list" in schema
