"""Which provider takes a currency: PARTA_PAYMENT_PROVIDER_BY_CURRENCY, else
PARTA_PAYMENT_PROVIDER; the settings are read from the environment and checked."""

import pytest

from config.settings.payments import _by_currency
from parta.billing.providers import registry


def test_the_setting_is_read_as_currency_provider_pairs():
    assert _by_currency(["rub:yookassa", " USD : stripe "]) == {"RUB": "yookassa", "USD": "stripe"}
    assert _by_currency([]) == {}
    with pytest.raises(ValueError, match="CUR:provider"):
        _by_currency(["RUB=yookassa"])


def test_a_currency_not_named_goes_to_the_default(settings):
    settings.PARTA_PAYMENT_PROVIDER = "sandbox"
    settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY = {"RUB": "tbank"}
    assert registry.provider_name_for("RUB") == "tbank"
    assert registry.provider_name_for("usd") == "sandbox"


def test_a_provider_per_currency_must_be_enabled_and_take_the_currency(settings):
    from parta.billing.checks import providers_per_currency
    from parta.billing.providers import registry

    settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "yookassa"]
    settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY = {"RUB": "yookassa"}
    registry.reset()
    assert providers_per_currency(None) == []
    settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY = {"RUB": "tbank", "USD": "yookassa"}
    assert [e.id for e in providers_per_currency(None)] == ["parta.E010", "parta.E011"]
