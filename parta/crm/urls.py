from django.urls import path

from parta.crm import card_views

app_name = "crm"

urlpatterns: list = [
    path("clients/<id:pk>/", card_views.client_page, name="client"),
    path("clients/<id:pk>/actions/<slug:action>/", card_views.client_action, name="client-action"),
]
