import pytest

from parta.accounts.tests.factories import UserFactory
from parta.billing.providers import registry
from parta.common.testing.fake_tbank import FakeTBank


@pytest.fixture
def buyer(client):
    """A signed-in student (tests that need a buyer without the client define their own)."""
    user = UserFactory(email="buyer@example.com")
    client.force_login(user)
    return user


@pytest.fixture
def tbank(settings):
    """The fake T-Bank (parta.common.testing.fake_tbank), serving roubles."""
    with FakeTBank() as fake:
        settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "tbank"]
        settings.PARTA_PAYMENT_PROVIDER = "sandbox"
        settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY = {"RUB": "tbank"}
        settings.TBANK_TERMINAL_KEY = fake.terminal_key
        settings.TBANK_PASSWORD = fake.password
        settings.TBANK_API_URL = fake.api_url
        settings.PARTA_RECEIPTS = True
        registry.reset()
        yield fake


@pytest.fixture(autouse=True)
def _fresh_providers():
    registry.reset()
    yield
    registry.reset()


# localstripe and the Stripe shim (parta/billing/tests/stripe_peer.py).
from parta.billing.tests.stripe_peer import (  # noqa: E402, F401
    _stripe_shim_server,
    localstripe_server,
    stripe_api_base,
    stripe_shim,
)
