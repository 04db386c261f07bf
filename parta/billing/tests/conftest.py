import pytest

from parta.accounts.tests.factories import UserFactory
from parta.billing.providers import registry


@pytest.fixture
def buyer(client):
    """A signed-in student (tests that need a buyer without the client define their own)."""
    user = UserFactory(email="buyer@example.com")
    client.force_login(user)
    return user


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
