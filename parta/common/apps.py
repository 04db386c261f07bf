from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "parta.common"
    label = "common"

    def ready(self):
        # Register the system checks and the token cache's signal receivers.
        from django.urls import register_converter

        from parta.common import authentication, checks, lookups  # noqa: F401
        from parta.common.converters import IdConverter

        # Before any URLconf is loaded: app URLs use <id:pk> for bounded ids.
        register_converter(IdConverter, "id")
