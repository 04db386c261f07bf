from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "parta.crm"
    label = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        from parta.notifications.channels.base import Channel
        from parta.notifications.kinds import Kind, register_kind

        # A message staff write to one client from the card: it always goes (like a
        # receipt), by the one channel they chose.
        register_kind(
            Kind(
                name="crm_message",
                label=_("Messages from the school"),
                mandatory=True,
                channels=(Channel.EMAIL, Channel.TELEGRAM),
            )
        )
