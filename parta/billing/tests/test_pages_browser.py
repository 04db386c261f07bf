"""The shop and account pages in a real browser: a phone-wide balance history, the
wrong-coupon message in place, the account menu."""

import re

import pytest
from playwright.sync_api import Page, expect

from parta.accounts.tests.factories import UserFactory
from parta.billing.models import EntryKind
from parta.billing.services.ledger import ledger_post
from parta.billing.tests.factories import CourseItemFactory
from parta.catalog.tests.factories import CourseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page: Page, browser_live_server, client):
    user = UserFactory(email="phone@example.com", full_name="Очень Длинное Имя Ученицы")
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies(
        [{"name": "sessionid", "value": cookie.value, "url": browser_live_server.url}]
    )
    return user


def _fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_balance_history_fits_a_phone(page: Page, browser_live_server, signed_in):
    for n in range(6):
        ledger_post(
            user_id=signed_in.id,
            currency="RUB",
            kind=EntryKind.ADJUSTMENT,
            amount=123456789 + n,
            reference=f"adjust:phone-{n}",
            description="Correction by staff #1: a very long reason " * 3,
        )
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{browser_live_server.url}/balance/")
    expect(page.locator("table.history")).to_be_visible()
    assert _fits(page)


def test_account_menu_opens_on_a_phone_and_leads_to_purchases(
    page: Page, browser_live_server, signed_in
):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{browser_live_server.url}/courses/")
    assert _fits(page)
    page.locator(".account-menu summary").click()
    page.get_by_role("link", name="Мои покупки").click()
    expect(page).to_have_url(re.compile(r"/purchases/$"))


def test_wrong_coupon_is_red_and_beside_the_field(page: Page, browser_live_server, signed_in):
    item = CourseItemFactory(course=CourseFactory(title="Физика"), prices={"RUB": 250000})
    page.goto(f"{browser_live_server.url}/item/{item.pk}/")
    page.fill("#coupon", "NOPE")
    page.get_by_role("button", name="Купить").click()
    error = page.locator("#coupon-error")
    expect(error).to_have_text("Такого купона нет.")
    expect(page.locator("#coupon")).to_have_attribute("aria-invalid", "true")
    color = error.evaluate("node => getComputedStyle(node).color")
    assert color == "rgb(180, 35, 24)"  # --danger, not the grey of muted text
    box, field = error.bounding_box(), page.locator("#coupon").bounding_box()
    assert 0 <= box["y"] - (field["y"] + field["height"]) < 30  # right under the field
