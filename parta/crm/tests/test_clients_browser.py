"""The clients list in a real browser: a filter change and a search swap the results in
place (htmx) and push the filters to the address bar; the page fits a phone's width."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from parta.accounts.tests.factories import StaffFactory
from parta.crm.tests.clients_data import build_clients

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = settings.BASE_DIR / "var" / "screenshots"


def test_filters_and_search_swap_the_list(page: Page, browser_live_server, client):
    build_clients()
    client.force_login(StaffFactory(full_name="Владелец Школы"))
    base = browser_live_server.url
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base + "/crm/clients/")
    rows = page.locator("table.crm-clients tbody tr")
    expect(rows).to_have_count(8)
    expect(page.locator("nav.crm-tabs")).to_contain_text("Клиенты")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "crm-clients-1280.png"), full_page=True)

    page.evaluate("() => { window.notReloaded = true; }")
    page.get_by_label("Статус").select_option("frozen")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("заморожен до")
    expect(page).to_have_url(re.compile(r"status=frozen"))

    page.get_by_label("Статус").select_option("")
    page.get_by_label("Имя, почта или телефон").fill("+7 (912) 345-67-89")
    expect(page).to_have_url(re.compile(r"/crm/clients/\?q=%2B7"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Анна Планова")
    assert page.evaluate("() => window.notReloaded") is True  # swapped, not reloaded
    export = page.get_by_role("link", name="Выгрузить в Excel")
    assert "q=%2B7" in export.get_attribute("href")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/crm/clients/")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    wide = page.evaluate(
        "() => [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect()"
        ".right > 390).map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert width <= 390, wide  # the table scrolls inside its box, the page does not
    page.screenshot(path=str(SHOTS / "crm-clients-390.png"), full_page=True)
