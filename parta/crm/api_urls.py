from django.urls import path  # noqa: F401 (each CRM endpoint adds its route here)

# Included under /api/v1/ by config.urls, in the "api" namespace.
urlpatterns: list = []
