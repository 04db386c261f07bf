from django.urls import path  # noqa: F401 (each CRM page adds its route here)

app_name = "crm"

urlpatterns: list = []
