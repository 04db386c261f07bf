from django.urls import path  # noqa: F401 (each CRM page adds its route here)

from parta.crm import card_views

app_name = "crm"

urlpatterns: list = [
    path("clients/<id:pk>/", card_views.client_page, name="client"),
    path("clients/<id:pk>/actions/<slug:action>/", card_views.client_action, name="client-action"),
]
