from django.urls import path

from parta.crm import dashboard_views

app_name = "crm"

urlpatterns: list = [
    path("", dashboard_views.dashboard, name="dashboard"),
]
