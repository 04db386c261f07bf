from django.urls import path

from parta.accounts import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path(
        "staff/exports/registrations.xlsx",
        views.registrations_export,
        name="registrations-export",
    ),
]
