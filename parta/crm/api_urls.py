from django.urls import path

from parta.crm import audit_apis

# Included under /api/v1/ by config.urls, in the "api" namespace.
urlpatterns: list = [
    path("crm/audit/", audit_apis.AuditListApi.as_view(), name="crm-audit"),
    path("crm/settings/", audit_apis.LiveSettingsApi.as_view(), name="crm-settings"),
]
