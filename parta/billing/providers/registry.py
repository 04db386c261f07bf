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
