from django.urls import path

from parta.crm import client_apis

# Included under /api/v1/ by config.urls, in the "api" namespace.
urlpatterns: list = [
    path("crm/clients/", client_apis.ClientListApi.as_view(), name="crm-clients"),
]
