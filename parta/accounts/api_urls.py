from django.urls import path

from parta.accounts.apis import MeApi

urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
]
