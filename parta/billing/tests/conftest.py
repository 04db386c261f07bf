import pytest

from parta.billing.providers import registry


@pytest.fixture(autouse=True)
def _fresh_providers():
    registry.reset()
    yield
    registry.reset()
