from django.urls import path

from parta.crm import client_views

app_name = "crm"

urlpatterns: list = [
    path("clients/", client_views.client_list, name="clients"),
    path("clients/export/", client_views.client_export, name="clients-export"),
]
