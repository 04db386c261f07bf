"""The bot on the site: the webhook, the profile's "Connect Telegram" block, and runbot."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from parta.accounts.tests.factories import UserFactory
from parta.bot import services
from parta.bot.models import LinkToken
from parta.common.testing.telegram import TOKEN

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
WEBHOOK = "/telegram/webhook/"
HELP_UPDATE = {
    "update_id": 10,
    "message": {
        "message_id": 1,
        "date": 1_700_000_000,
        "chat": {"id": 4242, "type": "private"},
        "from": {"id": 4242, "is_bot": False, "first_name": "S", "language_code": "en"},
        "text": "/help",
        "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
    },
}


@pytest.fixture
def webhook_on(telegram_peer, settings):
    settings.TELEGRAM_WEBHOOK_URL = "https://school.example.com/telegram/webhook/"
    settings.TELEGRAM_WEBHOOK_SECRET = "s3cret-value"
    return telegram_peer


def _post(client, body, secret=None):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    return client.post(WEBHOOK, body, content_type="application/json", **headers)


def test_webhook_refuses_a_wrong_or_missing_secret(client, webhook_on):
    assert _post(client, HELP_UPDATE, "wrong").status_code == 403
    assert _post(client, HELP_UPDATE).status_code == 403
    assert webhook_on.sent() == []


def test_webhook_feeds_the_dispatcher(client, webhook_on):
    response = _post(client, HELP_UPDATE, "s3cret-value")
    assert response.status_code == 200
    (reply,) = webhook_on.sent()
    assert reply.chat_id == 4242
    assert "/help" in reply.text


def test_webhook_answers_garbage_with_400(client, webhook_on):
    assert _post(client, {"no": "update"}, "s3cret-value").status_code == 400
    response = client.post(
        WEBHOOK,
        "{not json",
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="s3cret-value",
    )
    assert response.status_code == 400


def test_webhook_is_not_there_in_polling_mode(client, telegram_peer):
    assert _post(client, HELP_UPDATE, "").status_code == 404


def test_profile_says_when_the_bot_is_off(client, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    user = UserFactory()
    client.force_login(user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert reverse("bot:connect") in page
    block = client.get(reverse("bot:connect"), HTTP_HX_REQUEST="true").content.decode()
    assert "Telegram-бот на этом сайте не настроен." in block  # pages speak Russian
    client.post(reverse("bot:connect"), HTTP_HX_REQUEST="true")
    assert not LinkToken.objects.exists()


def test_connect_shows_a_one_time_deep_link_and_its_qr_code(client, telegram_peer):
    user = UserFactory()
    client.force_login(user)
    block = client.get(reverse("bot:connect"), HTTP_HX_REQUEST="true").content.decode()
    assert "Подключить Telegram" in block
    block = client.post(reverse("bot:connect"), HTTP_HX_REQUEST="true").content.decode()
    (token,) = re.findall(r"https://t\.me/parta_test_bot\?start=([A-Za-z0-9_-]{1,64})\"", block)
    assert 'src="data:image/svg+xml' in block
    # A second link replaces the first: only the one on screen works.
    block = client.post(reverse("bot:connect"), HTTP_HX_REQUEST="true").content.decode()
    (newer,) = re.findall(r"\?start=([A-Za-z0-9_-]+)\"", block)
    assert newer != token
    assert services.telegram_link(token=newer, chat_id=99) == user
    assert LinkToken.objects.count() == 1


def test_the_profile_unlinks(client, telegram_peer):
    user = UserFactory(telegram_chat_id=77)
    client.force_login(user)
    block = client.get(reverse("bot:connect"), HTTP_HX_REQUEST="true").content.decode()
    assert "Отвязать Telegram" in block
    response = client.post(reverse("bot:unlink"))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.telegram_chat_id is None


def test_connect_needs_a_signed_in_user(client):
    response = client.post(reverse("bot:connect"))
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_runbot_without_a_token_says_the_bot_is_off(settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    out = StringIO()
    call_command("runbot", stdout=out)
    assert "bot is off" in out.getvalue()


def test_runbot_registers_the_webhook_in_webhook_mode(webhook_on):
    out = StringIO()
    call_command("runbot", stdout=out)
    (call,) = webhook_on.requests("setWebhook")
    assert call.params["url"] == "https://school.example.com/telegram/webhook/"
    assert call.params["secret_token"] == "s3cret-value"
    assert "Webhook mode" in out.getvalue()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_runbot_polls_survives_errors_and_stops_cleanly(telegram_peer, tmp_path, stop):
    """A real process: it answers, an update whose handling fails (here the database has no
    tables) gets an apology and the next one is still answered; a signal stops it with 0."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.django.base",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "REDIS_URL": "",
        # The cache (and so the limiter) in process: the database here is left without tables.
        "PARTA_CACHE": "locmem",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": telegram_peer.base_url,
        "TELEGRAM_WEBHOOK_URL": "",
        "PARTA_TELEGRAM_CHAT_INTERVAL": "0.01",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runbot", "--polling-timeout", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        telegram_peer.wait_for(
            lambda: (
                telegram_peer._sent_unlocked(None) == []
                and any(call.method == "getUpdates" for call in telegram_peer.calls)
            ),
            timeout=30,
        )
        telegram_peer.push_message(31, "/help")
        telegram_peer.push_message(31, "/stats")
        replies = telegram_peer.wait_for_sent(2, chat_id=31, timeout=15)
        # A stranger to us (no tables, no user): the Telegram app's language, English.
        assert all("went wrong on our side" in reply.text for reply in replies)
        assert process.poll() is None
        process.send_signal(stop)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "is polling" in out
    assert "stopped" in out
    assert telegram_peer.requests("deleteWebhook")
