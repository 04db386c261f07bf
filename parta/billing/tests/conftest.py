import pytest

from parta.billing.providers import registry


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
