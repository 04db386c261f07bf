"""The client card in a real browser: staff record a cash payment through the form and its
confirmation, and see it on the card; a moderator sees the learning parts only.
Screenshots at desktop and phone width (the page never scrolls sideways)."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.billing.models import Payment
from parta.billing.tests.factories import CourseItemFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.browser import screenshots
from parta.crm.tests.test_card_page import _history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def test_staff_record_a_cash_payment_on_the_card(page: Page, browser_live_server):
    staff = StaffFactory(full_name="Владелец школы")
    student = UserFactory(full_name="Анна Демидова", phone="+79991234567")
    _history(student, staff, 2)
    item = CourseItemFactory(course=CourseFactory(title="Геометрия"), prices={"RUB": 250000})
    base = browser_live_server.url

    _sign_in(page, base, staff)
    page.goto(f"{base}/crm/clients/{student.pk}/")
    expect(page.locator("main h1")).to_have_text("Анна Демидова")
    expect(page.locator("#ledger")).to_contain_text("История баланса")
    screenshots(page, "crm-client-card")

    page.get_by_text("Внести офлайн-платёж").click()
    form = page.locator('details[data-action="offline-payment"]')
    form.get_by_label("Способ оплаты").select_option(label="Наличные")
    form.get_by_label("Номер документа").fill("ПКО 101")
    form.get_by_label("За что").select_option(label="Геометрия")
    form.get_by_label("Получено").fill("2500")
    form.get_by_label("Причина").fill("оплатила в офисе")
    screenshots(page, "crm-client-action-open")
    form.get_by_role("button", name="Продолжить").click()

    expect(page.get_by_test_id("confirm-summary")).to_contain_text("ПКО 101")
    expect(page.get_by_test_id("confirm-summary")).to_contain_text("Геометрия")
    assert not Payment.objects.filter(provider_payment_id="cash:ПКО 101").exists()
    screenshots(page, "crm-client-confirm")
    page.get_by_role("button", name="Подтвердить").click()

    expect(page.locator(".messages")).to_contain_text("Платёж внесён")
    expect(page.locator("#payments")).to_contain_text("cash:ПКО 101")
    expect(page.locator("#grants")).to_contain_text("Геометрия")
    expect(page.locator("#audit")).to_contain_text("оплатила в офисе")
    assert Payment.objects.get(provider_payment_id="cash:ПКО 101").order.lines.get().item == item

    # The same document again is refused with the reason.
    page.get_by_text("Внести офлайн-платёж").click()
    form = page.locator('details[data-action="offline-payment"]')
    form.get_by_label("Номер документа").fill("пко 101")
    form.get_by_label("Получено").fill("100")
    form.get_by_label("Причина").fill("ещё раз")
    form.get_by_role("button", name="Продолжить").click()
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.locator("main")).to_contain_text("Документ ПКО 101 уже внесён.")
    assert Payment.objects.filter(provider="offline").count() == 5


def test_a_moderator_sees_the_learning_parts(page: Page, browser_live_server):
    student = UserFactory(full_name="Борис Петров")
    _history(student, StaffFactory(), 1)
    base = browser_live_server.url
    _sign_in(page, base, ModeratorFactory())
    page.goto(f"{base}/crm/clients/{student.pk}/")
    expect(page.locator("#stats")).to_be_visible()
    expect(page.locator("#threads")).to_contain_text("Вопрос 0")
    expect(page.locator("#ledger")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("₽")
    screenshots(page, "crm-client-card-moderator")
