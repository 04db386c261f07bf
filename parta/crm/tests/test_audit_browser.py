"""The audit log and the live settings in a real browser: staff renames the school (a bad
value first), the header follows at once, the change is in the log and the log filters.
Neither page scrolls sideways at desktop or phone width."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from parta.accounts.tests.factories import StaffFactory
from parta.audit.models import AuditEntry
from parta.common.testing.browser import screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def test_staff_change_a_setting_and_find_it_in_the_log(page: Page, browser_live_server):
    base = browser_live_server.url
    _sign_in(page, base, StaffFactory(full_name="Ольга Владелица", email="owner@example.com"))

    page.goto(f"{base}/crm/settings/")
    page.get_by_label("Название школы").fill("Школа Ромашка")
    page.get_by_label("Почта поддержки").fill("не почта")
    page.get_by_label("Причина изменения").fill("Новое название")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_text("Введите корректный адрес электронной почты.")).to_be_visible()
    screenshots(page, "crm-settings-error")
    assert not AuditEntry.objects.exists()

    page.get_by_label("Почта поддержки").fill("help@romashka.example")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_text("Настройки сохранены и уже действуют.")).to_be_visible()
    expect(page.locator(".brand-name")).to_have_text("Школа Ромашка")
    expect(page.locator(".footer-contacts")).to_contain_text("help@romashka.example")
    screenshots(page, "crm-settings")

    page.get_by_role("link", name="Журнал действий").click()
    page.get_by_label("Действие").fill("crm.")
    page.get_by_role("button", name="Показать").click()
    entries = page.get_by_test_id("audit-entries")
    expect(entries).to_contain_text("Настройки изменены")
    expect(entries).to_contain_text("Новое название")
    expect(entries).to_contain_text("Школа Ромашка")
    screenshots(page, "crm-audit")

    page.get_by_label("Кто").fill("кто-то")
    page.get_by_role("button", name="Показать").click()
    expect(page.get_by_test_id("audit-filter-error")).to_be_visible()
    expect(page.get_by_text("Введите почту или номер человека.")).to_be_visible()
    screenshots(page, "crm-audit-error")
