"""/api/v1/telegram/: the bot's state for the caller, a one-time link token, unlink."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from parta.accounts.tests.factories import UserFactory
from parta.bot import services
from parta.bot.models import LinkToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory(language="en")


@pytest.fixture
def api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_link_token_opens_a_deep_link_that_links_the_chat(api, user, telegram_peer):
    assert api.get("/api/v1/telegram/").json() == {
        "bot_on": True,
        "linked": False,
        "blocked": False,
    }
    response = api.post("/api/v1/telegram/link-token/")
    assert response.status_code == 201
    body = response.json()
    assert body["link"] == f"https://t.me/parta_test_bot?start={body['token']}"
    assert services.TOKEN_PATTERN.fullmatch(body["token"])
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=14) < expires_at - timezone.now() <= timedelta(minutes=15)
    assert LinkToken.objects.get(user=user).expires_at == expires_at

    assert services.telegram_link(token=body["token"], chat_id=4242) == user
    assert api.get("/api/v1/telegram/").json()["linked"] is True
    # Linked already: no new token, a clear 409.
    again = api.post("/api/v1/telegram/link-token/")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert "уже привязан к Telegram" in again.json()["detail"]  # the API speaks Russian

    unlinked = api.post("/api/v1/telegram/unlink/")
    assert unlinked.status_code == 200
    assert unlinked.json()["linked"] is False
    user.refresh_from_db()
    assert user.telegram_chat_id is None


def test_a_newer_token_voids_the_older_one(api, telegram_peer):
    first = api.post("/api/v1/telegram/link-token/").json()["token"]
    second = api.post("/api/v1/telegram/link-token/").json()["token"]
    assert first != second
    assert LinkToken.objects.count() == 1


def test_with_the_bot_off_the_token_is_refused_in_the_callers_language(api, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    assert api.get("/api/v1/telegram/").json()["bot_on"] is False
    response = api.post("/api/v1/telegram/link-token/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 409
    assert response.json()["detail"] == "Telegram-бот на этом сайте выключен."
    assert not LinkToken.objects.exists()


def test_a_bot_that_does_not_answer_gives_a_409_and_no_token(api, telegram_peer, settings):
    settings.TELEGRAM_BOT_USERNAME = ""
    telegram_peer.fail("5xx", method="getMe")
    response = api.post("/api/v1/telegram/link-token/")
    assert response.status_code == 409
    assert response.json()["detail"] == "Telegram-бот сейчас не отвечает. Попробуйте позже."
    assert not LinkToken.objects.exists()


def test_the_endpoints_need_credentials():
    client = APIClient()
    for method, path in [
        ("get", "/api/v1/telegram/"),
        ("post", "/api/v1/telegram/link-token/"),
        ("post", "/api/v1/telegram/unlink/"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 401, path
    assert not LinkToken.objects.exists()


def test_the_schema_documents_the_link_token_and_its_errors(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/telegram/link-token/"]["post"]
    assert set(operation["responses"]) >= {"201", "401", "409"}
    assert "/api/v1/telegram/" in schema["paths"]
    assert "/api/v1/telegram/unlink/" in schema["paths"]
