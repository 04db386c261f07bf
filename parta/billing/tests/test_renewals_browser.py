"""A plan bought with auto-renewal in a real browser, through the sandbox: the card saved
on the hosted page, the next charge on /purchases/, auto-renewal switched off."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from parta.accounts.tests.factories import UserFactory
from parta.billing.models import AutoRenewal, RenewalStatus
from parta.billing.services.renewals import renewals_charge
from parta.billing.tests.factories import PlanFactory, PlanItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page: Page, browser_live_server, client):
    user = UserFactory(email="renewer@example.com")
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies(
        [{"name": "sessionid", "value": cookie.value, "url": browser_live_server.url}]
    )
    return user


def _no_sideways_scroll(page: Page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, f"the page scrolls sideways at {width}px"


def test_buy_a_plan_with_auto_renewal_see_the_next_charge_and_cancel_it(
    page: Page, browser_live_server, signed_in
):
    plan = PlanFactory(title="Тариф «Месяц»", duration_days=30)
    item = PlanItemFactory(plan=plan, prices={"RUB": 9900})
    base = browser_live_server.url
    shots = os.environ.get("PARTA_SHOTS_DIR")

    page.goto(f"{base}/item/{item.pk}/")
    page.get_by_label("Продлевать автоматически").check()
    page.get_by_role("button", name="Купить").click()

    expect(page).to_have_url(re.compile(r"/sandbox/checkout/"))
    expect(page.get_by_label("Сохранить карту для продлений тарифа")).to_be_checked()
    page.get_by_role("button", name=re.compile("Оплатить")).click()
    expect(page).to_have_url(re.compile(r"/order/\d+/\?paid=1$"))

    renewal = AutoRenewal.objects.get(user=signed_in)
    assert renewal.status == RenewalStatus.ACTIVE
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/purchases/")
        box = page.locator("[data-testid=renewal]")
        expect(box).to_contain_text("2\u00a0970\u00a0₽")
        expect(box).to_contain_text("Следующее списание")
        _no_sideways_scroll(page, width)
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/purchases-renewal-{width}.png", full_page=True)

    page.get_by_role("button", name="Отключить автопродление").click()
    expect(page).to_have_url(re.compile(r"/purchases/$"))
    expect(page.locator("main")).to_contain_text("Автопродление")
    expect(page.locator("[data-testid=renewal]")).to_have_count(0)
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.CANCELLED
    assert renewals_charge(now=renewal.next_charge_at) == 0
