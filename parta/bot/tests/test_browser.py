"""Connecting Telegram from the profile in a real browser."""

import re

import pytest
from playwright.sync_api import Page, expect

from parta.accounts.tests.factories import UserFactory
from parta.bot import services
from parta.common.testing.browser import screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page: Page, browser_live_server, client):
    user = UserFactory(email="tg@example.com", full_name="Ольга Телеграмова")
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies(
        [{"name": "sessionid", "value": cookie.value, "url": browser_live_server.url}]
    )
    return user


def test_connect_telegram_from_the_profile(
    page: Page, browser_live_server, signed_in, telegram_peer
):
    page.goto(browser_live_server.url + "/profile/")
    block = page.locator("#telegram-connect")
    expect(block).to_contain_text("Получайте уведомления и свою статистику в Telegram.")
    screenshots(page, "profile-connect")
    block.get_by_role("button", name="Подключить Telegram").click()
    link = page.get_by_role("link", name="Открыть бота")
    expect(link).to_have_attribute(
        "href", re.compile(r"^https://t\.me/parta_test_bot\?start=[\w-]{43}$")
    )
    expect(page.get_by_role("img", name="QR-код ссылки")).to_be_visible()
    screenshots(page, "profile-link-qr")

    token = link.get_attribute("href").split("start=")[1]
    services.telegram_link(token=token, chat_id=5151)
    page.reload()
    expect(block).to_contain_text("Ваш Telegram привязан")
    screenshots(page, "profile-linked")
    block.get_by_role("button", name="Отвязать Telegram").click()
    expect(page.get_by_role("button", name="Подключить Telegram")).to_be_visible()
    signed_in.refresh_from_db()
    assert signed_in.telegram_chat_id is None


def test_profile_without_a_bot(page: Page, browser_live_server, signed_in, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    page.goto(browser_live_server.url + "/profile/")
    expect(page.locator("#telegram-connect")).to_contain_text(
        "Telegram-бот на этом сайте не настроен."
    )
    screenshots(page, "profile-bot-off")
