from django.urls import path

from parta.bot import views

app_name = "bot"

urlpatterns = [
    path("webhook/", views.webhook, name="webhook"),
    path("connect/", views.connect, name="connect"),
    path("unlink/", views.unlink, name="unlink"),
]
