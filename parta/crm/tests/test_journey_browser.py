"""The owner's CRM journey in a real browser: staff find a client by a phone number typed
the Russian way, freeze their plan with a reason, see them under "frozen", record an
offline payment, and open the dashboard, whose charts are drawn."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from parta.access.models import AccessFreeze
from parta.accounts.tests.factories import StaffFactory
from parta.audit.models import AuditEntry
from parta.billing.models import Payment
from parta.common.testing.browser import screenshots
from parta.crm.tests.clients_data import build_clients

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_find_freeze_filter_record_a_payment_and_open_the_dashboard(
    page: Page, browser_live_server
):
    build_clients()
    staff = StaffFactory(full_name="Владелец школы")
    client = Client()
    client.force_login(staff)
    base = browser_live_server.url
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    page.set_viewport_size({"width": 1280, "height": 900})

    # Find the client by the phone as people write it.
    page.goto(base + "/crm/clients/")
    rows = page.locator("table.crm-clients tbody tr")
    page.get_by_label("Имя, почта или телефон").fill("8 912 345-67-89")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Анна Планова")
    screenshots(page, "crm-journey-search")
    rows.first.get_by_role("link", name="Анна Планова").click()
    expect(page.locator("main h1")).to_have_text("Анна Планова")

    # Freeze the plan for a week, with a reason, through the confirmation.
    page.get_by_text("Заморозить доступ", exact=True).click()
    form = page.locator('details[data-action="freeze"]')
    form.get_by_label("Дней").fill("7")
    form.get_by_label("Причина").fill("болеет, справка")
    form.get_by_role("button", name="Продолжить").click()
    expect(page.get_by_test_id("confirm-summary")).to_contain_text("Анна Планова")
    anna = AccessFreeze.objects.filter(grant__user__full_name="Анна Планова")
    assert not anna.exists()  # nothing until confirmed
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.locator(".messages")).to_be_visible()
    expect(page.locator("#audit")).to_contain_text("болеет, справка")
    freeze = anna.get()
    assert freeze.days == 7
    entry = AuditEntry.objects.get(reason="болеет, справка")
    assert entry.actor == staff
    assert entry.subject.full_name == "Анна Планова"
    card_url = page.url

    # She is listed under "frozen", with the reason's date.
    page.goto(base + "/crm/clients/")
    page.get_by_label("Статус").select_option("frozen")
    expect(page.locator("table.crm-clients tbody tr", has_text="Анна Планова")).to_contain_text(
        "заморожен до"
    )

    # Record a bank transfer on her card.
    page.goto(card_url)
    page.get_by_text("Внести офлайн-платёж").click()
    form = page.locator('details[data-action="offline-payment"]')
    form.get_by_label("Способ оплаты").select_option(index=1)
    form.get_by_label("Номер документа").fill("ПП 4471")
    form.get_by_label("Получено").fill("1500")
    form.get_by_label("Причина").fill("перевод на счёт школы")
    form.get_by_role("button", name="Продолжить").click()
    expect(page.get_by_test_id("confirm-summary")).to_contain_text("ПП 4471")
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.locator(".messages")).to_contain_text("Платёж внесён")
    expect(page.locator("#payments")).to_contain_text("ПП 4471")
    payment = Payment.objects.get(provider="offline")
    assert payment.order.user.full_name == "Анна Планова"
    screenshots(page, "crm-journey-card")

    # The dashboard draws its charts.
    page.goto(base + "/crm/")
    expect(page.locator("canvas[data-chart=revenue][data-drawn=true]")).to_be_attached()
    drawn = page.evaluate(
        "() => Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".map(c => !!window.Chart.getChart(c))"
    )
    assert drawn
    assert all(drawn)
    screenshots(page, "crm-journey-dashboard")
