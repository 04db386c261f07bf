from django.urls import path

from parta.crm import audit_views, card_views, client_views, dashboard_views

app_name = "crm"

urlpatterns: list = [
    path("clients/", client_views.client_list, name="clients"),
    path("clients/export/", client_views.client_export, name="clients-export"),
    path("clients/<id:pk>/", card_views.client_page, name="client"),
    path("clients/<id:pk>/actions/<slug:action>/", card_views.client_action, name="client-action"),
    path("audit/", audit_views.audit, name="audit"),
    path("settings/", audit_views.live_settings, name="settings"),
    path("", dashboard_views.dashboard, name="dashboard"),
]
