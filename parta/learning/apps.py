from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearningConfig(AppConfig):
    name = "parta.learning"
    label = "learning"
    verbose_name = _("Learning")

    def ready(self) -> None:
        from parta.learning.notices import register_kinds

        register_kinds()
