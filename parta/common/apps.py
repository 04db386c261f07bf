from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "parta.common"
    label = "common"

    def ready(self):
        # Register the system checks and the token cache's signal receivers.
        from parta.common import authentication, checks  # noqa: F401
