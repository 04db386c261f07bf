from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsConfig(AppConfig):
    name = "parta.news"
    label = "news"
    verbose_name = _("News")

    def ready(self) -> None:
        from parta.news.unsubscribe import news_email_headers
        from parta.notifications.channels.base import Channel
        from parta.notifications.kinds import Kind, register_kind

        register_kind(
            Kind(
                name="news",
                label=_("School news"),
                channels=(Channel.EMAIL, Channel.TELEGRAM, Channel.SITE),
                email_headers=news_email_headers,
            )
        )
        # The digest goes to Telegram by default; by email only to those who turn it on.
        register_kind(
            Kind(
                name="weekly_digest",
                label=_("Weekly digest of your progress"),
                channels=(Channel.TELEGRAM, Channel.EMAIL),
                default_on=(Channel.TELEGRAM,),
            )
        )
