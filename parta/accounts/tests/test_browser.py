"""The sign-up journey in a real browser (Debian Chromium driven by Playwright)."""

import re

import pytest
from playwright.sync_api import Page, expect

from parta.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_with_email_code_lands_on_profile(page: Page, browser_live_server, smtp_sink):
    base = browser_live_server.url
    page.goto(base + "/")
    expect(page.locator("header .logo-mark")).to_be_visible()
    footer_link = page.locator("footer a.open-source")
    expect(footer_link).to_have_text("Работает на Open Source")

    page.get_by_role("link", name="Зарегистрироваться").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    page.get_by_label("Email").fill("journey@example.com")
    page.get_by_label("ФИО").fill("Елена Путешественница")
    page.get_by_label("Телефон (необязательно)").fill("+7 912 345-67-89")
    page.locator("form button[type=submit]").first.click()

    expect(page.locator("input[name=code]")).to_be_visible()
    [message] = smtp_sink.wait_for(1)
    code = re.search(r"^\s*(\d{6})\s*$", smtp_sink.text_of(message), re.MULTILINE).group(1)
    page.locator("input[name=code]").fill(code)
    page.locator("form button[type=submit]").first.click()

    expect(page).to_have_url(re.compile(r"/profile/$"))
    expect(page.locator("main h1")).to_have_text("Елена Путешественница")
    expect(page.locator("main dl")).to_contain_text("+7 912 345-67-89")
    expect(page.locator("header .logo-mark")).to_be_visible()
    expect(page.locator("footer a.open-source")).to_have_text("Работает на Open Source")
    user = User.objects.get(email="journey@example.com")
    assert user.phone == "+79123456789"


def test_code_page_fixes_a_mistyped_email_and_cancels_to_the_code_request(
    page: Page, browser_live_server, smtp_sink
):
    from parta.accounts.tests.factories import UserFactory

    UserFactory(email="olga@example.com")
    base = browser_live_server.url
    page.goto(base + "/accounts/login/code/")
    page.get_by_label("Email").fill("olga@exmaple.com")
    page.get_by_role("button", name="Прислать код").click()
    expect(page.get_by_label("Код из письма")).to_be_visible()
    expect(page.get_by_role("button", name="Отправить код ещё раз")).to_be_visible()

    page.get_by_role("link", name="Изменить адрес").click()
    expect(page.get_by_label("Email")).to_have_value("olga@exmaple.com")
    page.get_by_label("Email").fill("olga@example.com")
    page.get_by_role("button", name="Прислать код").click()
    page.get_by_role("button", name="Отмена").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/code/$"))

    page.get_by_label("Email").fill("olga@example.com")
    page.get_by_role("button", name="Прислать код").click()
    # The unknown address was told by email; then two codes for the right one.
    messages = smtp_sink.wait_for(3)
    code = re.search(r"^\s*(\d{6})\s*$", smtp_sink.text_of(messages[-1]), re.MULTILINE).group(1)
    page.get_by_label("Код из письма").fill(code)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/profile/$"))
