from django.urls import path

from parta.crm import audit_views

app_name = "crm"

urlpatterns: list = [
    path("audit/", audit_views.audit, name="audit"),
    path("settings/", audit_views.live_settings, name="settings"),
]
