from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "parta.common"
    label = "common"
