from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "parta.groups"
    label = "groups"
    verbose_name = _("Study groups")

    def ready(self) -> None:
        from parta.groups import receivers  # noqa: F401 (keeps seat counts right on deletes)
