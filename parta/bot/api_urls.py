from django.urls import path

from parta.bot import apis

urlpatterns = [
    path("telegram/", apis.TelegramStatusApi.as_view(), name="telegram"),
    path("telegram/link-token/", apis.TelegramLinkTokenApi.as_view(), name="telegram-link-token"),
    path("telegram/unlink/", apis.TelegramUnlinkApi.as_view(), name="telegram-unlink"),
]
