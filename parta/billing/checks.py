"""System checks for payments (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def sandbox_in_production(app_configs, **kwargs):
    """The sandbox lets anyone "pay" without money: fine for a demo, not for a school
    that takes real payments."""
    if "sandbox" in settings.PARTA_PAYMENT_PROVIDERS and not settings.DEBUG:
        return [
            Warning(
                "The sandbox payment provider is enabled: anyone can complete a purchase "
                "without paying.",
                hint="Set PARTA_PAYMENT_PROVIDERS to your real provider(s), e.g. 'stripe'.",
                id="parta.W001",
            )
        ]
    return []


@register()
def providers_per_currency(app_configs, **kwargs):
    """Each provider named per currency must exist, be enabled and take the currency."""
    from parta.billing.providers.registry import PROVIDERS, UnknownProvider, get_provider

    problems = []
    for currency, name in settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY.items():
        if name not in PROVIDERS or name not in settings.PARTA_PAYMENT_PROVIDERS:
            problems.append(
                Error(
                    f"PARTA_PAYMENT_PROVIDER_BY_CURRENCY sends {currency} to {name!r}, "
                    "which is not an enabled provider.",
                    hint=f"Add {name!r} to PARTA_PAYMENT_PROVIDERS (known: "
                    f"{', '.join(sorted(PROVIDERS))}).",
                    id="parta.E010",
                )
            )
            continue
        try:
            provider = get_provider(name)
        except UnknownProvider:  # pragma: no cover - checked above
            continue
        if not provider.supports(currency):
            problems.append(
                Error(
                    f"The {name} provider does not take {currency}.",
                    hint="Send that currency to another provider.",
                    id="parta.E011",
                )
            )
    return problems
