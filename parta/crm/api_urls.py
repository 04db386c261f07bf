from django.urls import path

from parta.crm import dashboard_apis

# Included under /api/v1/ by config.urls, in the "api" namespace.
urlpatterns: list = [
    path("crm/dashboard/", dashboard_apis.DashboardApi.as_view(), name="crm-dashboard"),
]
