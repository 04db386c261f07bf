"""The dashboard's figures against the ledger and hand-built data, its cost in queries,
who may see it, and bad periods."""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from parta.access.models import AccessGrant, GrantSource
from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.models import User
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.billing.models import EntryKind, LedgerEntry
from parta.billing.services.fulfilment import order_buy_with_balance, order_paid
from parta.billing.services.ledger import balance_adjust
from parta.billing.services.orders import order_create, topup_create
from parta.billing.services.refunds import refund_grant, refund_topup
from parta.billing.tests.factories import CourseItemFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.errors import ValidationFailed
from parta.common.money import format_money
from parta.common.time import school_today, school_tz
from parta.crm.dashboard import dashboard_data, period_for
from parta.groups.tests.factories import GroupFactory
from parta.learning.models import DailyActivity

pytestmark = pytest.mark.django_db

TZ = school_tz()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


@contextmanager
def at(moment: datetime):
    """Run billing services as if at ``moment``: every timezone.now() (the services' and
    the created_at fields') answers it."""
    original = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = original


def _pay(order, key: str) -> None:
    order_paid(
        order=order, provider="sandbox", provider_payment_id=key, amount=order.total,
        currency=order.currency,
    )  # fmt: skip


def _ledger_truth(start: date, end: date) -> dict[str, dict[date, int]]:
    """Revenue per currency and school day, summed straight from the ledger's rows."""
    truth: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for entry in LedgerEntry.objects.select_related("account"):
        day = entry.created_at.astimezone(TZ).date()
        if not start <= day <= end:
            continue
        if entry.kind == EntryKind.SPENDING or (
            entry.kind == EntryKind.REFUND and entry.amount > 0
        ):
            truth[entry.account.currency][day] -= entry.amount
    return truth


@pytest.fixture
def month_of_money(settings):
    """Thirty days of purchases (at a provider and from the balance), top-ups, refunds
    (to the balance, to the card, a top-up back to its card) and a staff correction, in
    roubles and dollars, made through the billing services."""
    settings.PARTA_CURRENCIES = ["RUB", "USD"]
    today = school_today()
    start = today - timedelta(days=29)
    item = CourseItemFactory(prices={"RUB": 199050, "USD": 2999})
    other = CourseItemFactory(prices={"RUB": 50001, "USD": 1001})
    staff = StaffFactory()
    for i in range(0, 30, 3):
        day = start + timedelta(days=i)
        currency = "RUB" if i % 2 == 0 else "USD"
        buyer = UserFactory()
        with at(local(day, 10)):
            _pay(order_create(user=buyer, item_ids=[item.pk], currency=currency), f"p{i}a")
        with at(local(day, 12)):
            topup = topup_create(user=buyer, amount=300000, currency=currency)
            _pay(topup, f"p{i}t")
        with at(local(day, 13)):
            order_buy_with_balance(user=buyer, item_ids=[other.pk], currency=currency)
        if i % 9 == 0:  # days 0 and 18 in roubles, 9 and 27 in dollars
            with at(local(day, 15)):
                grant = AccessGrant.objects.get(user=buyer, course=item.course)
                refund_grant(grant=grant, requested_by=staff, to_balance=i in (0, 27))
        if i % 6 == 3:
            with at(local(day, 16)):
                entry = LedgerEntry.objects.get(order=topup, kind=EntryKind.TOPUP)
                refund_topup(entry=entry, amount=1234, requested_by=staff)
        with at(local(day, 17)):
            balance_adjust(
                user_id=buyer.pk, currency=currency, amount=777, reason="bonus",
                by_id=staff.pk, key=f"k{i}",
            )  # fmt: skip
    # The time zone's edge: 23:30 local is the same day, 00:30 local the next one (both
    # are the previous day in UTC).
    late = UserFactory()
    edge_day = start + timedelta(days=4)
    with at(local(edge_day, 23, 30)):
        _pay(order_create(user=late, item_ids=[other.pk], currency="RUB"), "late")
    with at(local(edge_day + timedelta(days=1), 0, 30)):
        _pay(order_create(user=late, item_ids=[item.pk], currency="RUB"), "early")
    # Outside the period: the day before it.
    with at(local(start - timedelta(days=1), 23, 59)):
        _pay(order_create(user=late, item_ids=[item.pk], currency="USD"), "before")
    return {"start": start, "end": today, "edge_day": edge_day, "item": item, "other": other}


def test_revenue_per_day_matches_the_ledger_to_the_kopeck(month_of_money):
    start, end = month_of_money["start"], month_of_money["end"]
    data = dashboard_data(start=start, end=end, money=True)
    truth = _ledger_truth(start, end)
    days = [start + timedelta(days=i) for i in range(30)]
    assert data["days"] == [d.isoformat() for d in days]
    revenue = {r["currency"]: r for r in data["money"]["revenue"]}
    assert set(revenue) == {"RUB", "USD"}
    for currency, figures in revenue.items():
        assert figures["net"] == [truth[currency][d] for d in days]
        assert figures["net_total"] == sum(truth[currency].values())
        assert figures["net_total"] == figures["sold_total"] - figures["refunded_total"]
    # Top-ups and corrections are in the ledger but are not revenue; the refunds are.
    assert LedgerEntry.objects.filter(kind=EntryKind.ADJUSTMENT).count() == 10
    assert revenue["RUB"]["refunded_total"] > 0
    assert revenue["USD"]["refunded_total"] > 0


def test_revenue_by_hand(month_of_money):
    """The same figures worked out from the prices: each buyer spends the two items'
    prices; refunds and the late buyer's edge purchases as posted."""
    start, end, edge = month_of_money["start"], month_of_money["end"], month_of_money["edge_day"]
    data = dashboard_data(start=start, end=end, money=True)
    revenue = {r["currency"]: r for r in data["money"]["revenue"]}
    # Days 0, 6, 12, 18, 24 in roubles; 3, 9, 15, 21, 27 in dollars.
    assert revenue["RUB"]["sold_total"] == 5 * (199050 + 50001) + 50001 + 199050
    assert revenue["USD"]["sold_total"] == 5 * (2999 + 1001)
    refunds = LedgerEntry.objects.filter(kind=EntryKind.REFUND, amount__gt=0)
    assert revenue["RUB"]["refunded_total"] == sum(
        e.amount for e in refunds if e.account.currency == "RUB"
    )
    # The 23:30 purchase counts on its local day, the 00:30 one on the next.
    edge_index = (edge - start).days
    assert revenue["RUB"]["sold"][edge_index] == 50001
    assert revenue["RUB"]["sold"][edge_index + 1] == 199050
    # The purchase a minute before the period is not in it.
    before = dashboard_data(start=start - timedelta(days=1), end=start - timedelta(days=1),
                            money=True)  # fmt: skip
    assert {r["currency"]: r["net_total"] for r in before["money"]["revenue"]} == {"USD": 2999}


def test_paying_students(month_of_money):
    data = dashboard_data(start=month_of_money["start"], end=month_of_money["end"], money=True)
    # Ten buyers and the late buyer; top-ups alone would not count.
    assert data["money"]["paying"] == 11
    only_topup = UserFactory()
    _pay(topup_create(user=only_topup, amount=1000, currency="RUB"), "solo")
    data = dashboard_data(start=month_of_money["start"], end=month_of_money["end"], money=True)
    assert data["money"]["paying"] == 11


def test_registrations_and_learning_by_hand():
    today = school_today()
    start = today - timedelta(days=6)
    course = CourseFactory()
    students = []
    for offset, hour, minute in ((0, 9, 0), (0, 23, 30), (2, 0, 15), (6, 12, 0)):
        student = UserFactory()
        User.objects.filter(pk=student.pk).update(
            created_at=local(start + timedelta(days=offset), hour, minute)
        )
        students.append(student)
    # Before the period, and staff and moderators: not registrations of students.
    User.objects.filter(pk=UserFactory().pk).update(created_at=local(start, 0) - timedelta(
        minutes=1))  # fmt: skip
    StaffFactory()
    ModeratorFactory()
    DailyActivity.objects.create(user=students[0], course=course, day=start, tasks_solved=3,
                                 correct_answers=4)  # fmt: skip
    DailyActivity.objects.create(user=students[1], course=course, day=start, tasks_solved=2,
                                 correct_answers=2)  # fmt: skip
    DailyActivity.objects.create(user=students[0], course=course, day=start + timedelta(days=1),
                                 tasks_solved=0, correct_answers=1)  # fmt: skip
    DailyActivity.objects.create(user=students[0], course=course,
                                 day=start - timedelta(days=1), tasks_solved=9)  # fmt: skip

    data = dashboard_data(start=start, end=today, money=False)
    assert data["registrations"]["series"] == [2, 0, 1, 0, 0, 0, 1]
    assert data["registrations"]["total"] == 4
    assert data["activity"]["solved"] == [5, 0, 0, 0, 0, 0, 0]
    assert data["activity"]["active"] == [2, 1, 0, 0, 0, 0, 0]
    assert data["activity"]["active_total"] == 2
    assert data["money"] is None


def test_group_fill_expiring_and_renewals():
    now = timezone.now()
    today = school_today()
    small = CourseFactory(title="Алгебра", max_group_size=10)
    big = CourseFactory(title="Физика", max_group_size=20)
    GroupFactory(course=small, members_count=10)
    GroupFactory(course=small, members_count=5)
    GroupFactory(course=big, members_count=3)
    # With access now: two students (one with two grants); not an ended or future one.
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    AccessGrantFactory(user=a, course=small, available_until=now + timedelta(days=1))
    AccessGrantFactory(user=a, course=big, available_until=now + timedelta(days=6))
    AccessGrantFactory(user=b, course=small, available_until=now + timedelta(days=8))
    AccessGrantFactory(user=c, course=big, starts_at=now + timedelta(days=1))
    AccessGrantFactory(user=c, course=small, is_active=False,
                       available_until=now + timedelta(days=2))  # fmt: skip
    # Ended in the period: one renewed by a newer grant, one not; a manual one is ignored.
    ended = now - timedelta(days=3)
    AccessGrantFactory(user=b, course=big, source=GrantSource.PLAN, is_active=False,
                       starts_at=ended - timedelta(days=30), available_until=ended)  # fmt: skip
    AccessGrantFactory(user=b, course=big, source=GrantSource.PLAN, starts_at=ended,
                       available_until=now + timedelta(days=27))  # fmt: skip
    AccessGrantFactory(user=c, course=big, source=GrantSource.PURCHASE, is_active=False,
                       starts_at=ended - timedelta(days=30), available_until=ended)  # fmt: skip
    AccessGrantFactory(user=a, course=small, source=GrantSource.MANUAL, is_active=False,
                       starts_at=ended - timedelta(days=30), available_until=ended)  # fmt: skip

    data = dashboard_data(start=today - timedelta(days=6), end=today, money=True)
    fill = data["group_fill"]
    assert [(c["course"], c["groups"], c["members"], c["seats"], c["percent"])
            for c in fill["courses"]] == [("Алгебра", 2, 15, 20, 75),
                                          ("Физика", 1, 3, 20, 15)]  # fmt: skip
    assert (fill["members"], fill["seats"], fill["percent"]) == (18, 40, 45)
    assert data["with_access"] == 2
    expiring = data["money"]["expiring"]
    assert expiring["total"] == 2
    assert len(expiring["series"]) == 8
    assert expiring["days"][0] == today.isoformat()
    renewals = data["money"]["renewals"]
    assert (renewals["ended_total"], renewals["renewed_total"], renewals["percent"]) == (2, 1, 50)
    index = data["days"].index(ended.astimezone(TZ).date().isoformat())
    assert renewals["ended"][index] == 2
    assert renewals["renewed"][index] == 1


def _build(n: int, start: date) -> None:
    course = CourseFactory()
    item = CourseItemFactory(course=course, prices={"RUB": 1000})
    for i in range(n):
        buyer = UserFactory()
        with at(local(start + timedelta(days=i % 5), 11)):
            _pay(order_create(user=buyer, item_ids=[item.pk], currency="RUB"), f"n{n}-{i}")
        DailyActivity.objects.create(user=buyer, course=course, day=start, tasks_solved=1)
        GroupFactory(course=course, number=100 + i, members_count=1)
        AccessGrantFactory(user=buyer, course=course, source=GrantSource.PLAN,
                           is_active=False, starts_at=timezone.now() - timedelta(days=40),
                           available_until=timezone.now() - timedelta(days=1))  # fmt: skip


@pytest.mark.parametrize("n", [1, 6])
def test_query_count_does_not_grow(n, django_assert_num_queries, settings):
    today = school_today()
    start = today - timedelta(days=6)
    _build(n, start)
    # PostgreSQL reads the revenue and the payers in one statement (GROUPING SETS).
    money_queries = 9 if connection.vendor == "postgresql" else 10
    with django_assert_num_queries(money_queries):
        data = dashboard_data(start=start, end=today, money=True)
    assert data["money"]["paying"] == n
    with django_assert_num_queries(5):
        dashboard_data(start=start, end=today, money=False)


@pytest.mark.parametrize("n", [1, 6])
def test_page_query_count(n, client, django_assert_num_queries):
    today = school_today()
    _build(n, today - timedelta(days=6))
    client.force_login(StaffFactory())
    # The session and the user, the dashboard's nine or ten, the menu's two badges (inbox
    # and notifications).
    with django_assert_num_queries(13 if connection.vendor == "postgresql" else 14):
        response = client.get(reverse("crm:dashboard"), {"preset": "7"})
    assert response.status_code == 200


def test_page_for_staff_shows_money(client, month_of_money):
    client.force_login(StaffFactory())
    response = client.get(reverse("crm:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    data = dashboard_data(start=month_of_money["start"], end=month_of_money["end"], money=True)
    rub = next(r for r in data["money"]["revenue"] if r["currency"] == "RUB")
    shown = format_money(rub["net_total"], "RUB", language="ru")
    assert f'data-testid="revenue-RUB">{shown}<' in html
    assert 'id="dashboard-data"' in html
    assert 'data-chart="revenue"' in html
    assert "Выручка" in html


def test_moderator_sees_learning_without_money(client, month_of_money):
    client.force_login(ModeratorFactory())
    response = client.get(reverse("crm:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chart="revenue"' not in html
    assert 'data-testid="paying"' not in html
    assert 'data-chart="registrations"' in html
    assert '"money": null' in html
    assert "₽" not in html
    assert "$" not in html


def test_students_and_visitors_are_refused(client):
    url = reverse("crm:dashboard")
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response["Location"]
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-02-30", "end": "2026-03-01"}, "ГГГГ-ММ-ДД"),
        ({"start": "вчера", "end": "2026-03-01"}, "ГГГГ-ММ-ДД"),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "не раньше"),
        ({"start": "2024-01-01", "end": "2025-06-01"}, "366"),
        ({"start": "2026-01-01"}, "Укажите дату"),
        ({"preset": "45"}, "7, 30 или 90"),
    ],
)
def test_bad_periods_give_a_clear_message(client, params, message):
    client.force_login(StaffFactory())
    response = client.get(reverse("crm:dashboard"), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="period-error"' in html
    assert message in html
    assert 'data-chart="revenue"' in html  # the last 30 days are shown instead


def test_future_end_is_refused():
    today = school_today()
    with pytest.raises(ValidationFailed) as caught:
        period_for(start=today.isoformat(), end=(today + timedelta(days=1)).isoformat())
    assert caught.value.errors == {"end": ["The period cannot end in the future."]}
    period = period_for(preset="7", today=today)
    assert (period.start, period.end, period.days) == (today - timedelta(days=6), today, 7)
    year = period_for(start="2025-01-01", end="2025-12-31", today=today)
    assert year.days == 365


def _api(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def test_api_for_staff_moderators_and_students(month_of_money):
    url = "/api/v1/crm/dashboard/"
    start, end = month_of_money["start"], month_of_money["end"]
    params = {"start": start.isoformat(), "end": end.isoformat()}
    staff = _api(StaffFactory()).get(url, params)
    assert staff.status_code == 200
    body = staff.json()
    assert body == dashboard_data(start=start, end=end, money=True)
    assert body["money"]["revenue"][0]["currency"] == "RUB"
    moderator = _api(ModeratorFactory()).get(url, params)
    assert moderator.status_code == 200
    assert moderator.json()["money"] is None
    assert moderator.json()["registrations"] == body["registrations"]
    assert _api(UserFactory()).get(url, params).status_code == 403
    assert APIClient().get(url).status_code == 401


def test_api_bad_period_is_a_400_with_a_message():
    api = _api(StaffFactory())
    response = api.get("/api/v1/crm/dashboard/", {"start": "2026-13-01", "end": "2026-01-01"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert "start" in body["errors"]
    response = api.get("/api/v1/crm/dashboard/", {"start": "2020-01-01", "end": "2022-01-01"})
    assert response.status_code == 400
    assert "366" in response.json()["detail"]


def test_api_is_in_the_schema(client):
    client.force_login(StaffFactory())
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/crm/dashboard/" in text
    assert "crm_dashboard" in text
