"""Which providers exist and which one takes new payments (settings.PARTA_PAYMENT_PROVIDER)."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from parta.billing.providers.base import PaymentProvider

PROVIDERS = {
    "sandbox": "parta.billing.providers.sandbox.SandboxProvider",
    "stripe": "parta.billing.providers.stripe.StripeProvider",
    "offline": "parta.billing.providers.offline.OfflineProvider",
}
# Always on, whatever PARTA_PAYMENT_PROVIDERS says: staff record cash and bank transfers
# (and refund them) in any set-up; it takes no money online and answers no webhook.
ALWAYS_ENABLED = ("offline",)


class UnknownProvider(LookupError):
    pass


# The providers for Russia and the CIS (docs/payments.md compares them).
PROVIDERS.update(
    {
        "yookassa": "parta.billing.providers.yookassa.YooKassaProvider",
        "tbank": "parta.billing.providers.tbank.TBankProvider",
        "cloudpayments": "parta.billing.providers.cloudpayments.CloudPaymentsProvider",
    }
)


def provider_name_for(currency: str) -> str:
    """The provider that takes new payments in ``currency``: the currency's entry in
    settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY, else settings.PARTA_PAYMENT_PROVIDER."""
    by_currency = getattr(settings, "PARTA_PAYMENT_PROVIDER_BY_CURRENCY", {}) or {}
    return by_currency.get((currency or "").upper(), settings.PARTA_PAYMENT_PROVIDER)


@cache
def _load(name: str) -> PaymentProvider:
    return import_string(PROVIDERS[name])()


def get_provider(name: str) -> PaymentProvider:
    if name not in PROVIDERS or (name not in enabled_providers() and name not in ALWAYS_ENABLED):
        raise UnknownProvider(name)
    return _load(name)


def enabled_providers() -> list[str]:
    return list(getattr(settings, "PARTA_PAYMENT_PROVIDERS", ["sandbox"]))


def default_provider() -> PaymentProvider:
    return get_provider(settings.PARTA_PAYMENT_PROVIDER)


def reset() -> None:
    """Forget loaded providers (tests that change provider settings call this)."""
    _load.cache_clear()
