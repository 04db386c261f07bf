from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "parta.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from parta.billing import checks  # noqa: F401 (registers the system checks)
        from parta.billing.notices import register_kinds
        from parta.notifications.kinds import Kind, register_kind

        register_kinds()
        register_kind(Kind(name="access_ended", label=_("Access ended")))
