"""System checks for payments (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


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
