from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BotConfig(AppConfig):
    name = "parta.bot"
    label = "bot"
    verbose_name = _("Telegram bot")
