from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "parta.common"
    label = "common"

    def ready(self):
        from parta.common import checks  # noqa: F401 (registers the system checks)
