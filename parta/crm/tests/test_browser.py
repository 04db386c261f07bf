"""The dashboard in a real browser: every chart is drawn (a Chart.js instance on each
canvas) on a wide screen and on a phone, with the same figures as the tables."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from parta.accounts.tests.factories import StaffFactory, UserFactory
from parta.billing.services.fulfilment import order_paid
from parta.billing.services.orders import order_create
from parta.billing.tests.factories import CourseItemFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.time import school_today
from parta.groups.tests.factories import GroupFactory
from parta.learning.models import DailyActivity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ["revenue", "registrations", "activity", "groups", "expiring", "renewals"]


@pytest.fixture
def school():
    course = CourseFactory(title="Геометрия", max_group_size=12)
    item = CourseItemFactory(course=course, prices={"RUB": 250000, "USD": 3000})
    today = school_today()
    for i, currency in enumerate(["RUB", "RUB", "USD"]):
        buyer = UserFactory()
        order = order_create(user=buyer, item_ids=[item.pk], currency=currency)
        order_paid(order=order, provider="sandbox", provider_payment_id=f"b{i}",
                   amount=order.total, currency=currency)  # fmt: skip
        for back in range(0, 20, 3 + i):
            day = today - timedelta(days=back)
            DailyActivity.objects.create(user=buyer, course=course, day=day, tasks_solved=i + 1)
    GroupFactory(course=CourseFactory(title="Алгебра", max_group_size=10), members_count=7)
    return course


@pytest.fixture
def signed_in_staff(page: Page, browser_live_server, client):
    staff = StaffFactory(email="owner@example.com")
    client.force_login(staff)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": browser_live_server.url,
            }
        ]
    )
    return staff


def test_dashboard_draws_its_charts(page: Page, browser_live_server, school, signed_in_staff):
    shots = Path(os.environ.get("PARTA_SHOTS_DIR", "/tmp"))
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{browser_live_server.url}/crm/?preset=30")
        expect(page.locator("h1")).to_have_text("Сводка")
        expect(page.locator("[data-testid=revenue-RUB]")).to_have_text("5\u00a0000\u00a0₽")
        for name in CHARTS:
            expect(page.locator(f"canvas[data-chart={name}][data-drawn=true]")).to_be_attached()
        drawn = page.evaluate(
            """() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {
                const chart = window.Chart.getChart(c);
                return {name: c.dataset.chart, chart: !!chart, width: c.clientWidth,
                        points: chart ? chart.data.datasets.map(d => d.data.length) : []};
            })"""
        )
        assert [d["name"] for d in drawn] == CHARTS
        for chart in drawn:
            assert chart["chart"], chart
            assert 0 < chart["width"] <= width, chart
        by_name = {d["name"]: d for d in drawn}
        assert by_name["revenue"]["points"] == [30, 30]  # roubles and dollars, 30 days
        assert by_name["expiring"]["points"] == [8]
        # Money is drawn in major units: 5 000 roubles today.
        today_rub = page.evaluate(
            "() => window.Chart.getChart(document.querySelector('canvas[data-chart=revenue]'))"
            ".data.datasets[0].data.at(-1)"
        )
        assert today_rub == 5000
        # Nothing sticks out sideways on a phone.
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        page.screenshot(path=str(shots / f"crm-dashboard-{width}.png"), full_page=True)
    assert errors == []


def test_bad_dates_are_explained(page: Page, browser_live_server, signed_in_staff):
    page.goto(f"{browser_live_server.url}/crm/?preset=custom&start=2026-05-10&end=2026-05-01")
    expect(page.locator("[data-testid=period-error]")).to_contain_text(
        "Период должен заканчиваться не раньше"
    )
    expect(page.locator("canvas[data-chart=registrations][data-drawn=true]")).to_be_attached()
