"""Mounted at accounts/ before allauth's URLs: these replace allauth's views of the same
names (see parta.accounts.auth_views)."""

from django.urls import path

from parta.accounts import auth_views

urlpatterns = [
    path("login/code/", auth_views.request_login_code, name="account_request_login_code"),
    path(
        "login/code/confirm/",
        auth_views.confirm_login_code,
        name="account_confirm_login_code",
    ),
    path("password/set/", auth_views.password_set, name="account_set_password"),
    path("password/change/", auth_views.password_change, name="account_change_password"),
]
