from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "parta.access"
    label = "access"
    verbose_name = _("Access")

    def ready(self):
        from parta.access import receivers  # noqa: F401 (connects the signal receivers)
