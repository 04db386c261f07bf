from django.urls import path

from parta.notifications import apis

urlpatterns = [
    path("notifications/", apis.NotificationListApi.as_view(), name="notifications"),
    path(
        "notifications/read-all/",
        apis.NotificationReadAllApi.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        apis.NotificationReadApi.as_view(),
        name="notification-read",
    ),
    path(
        "notifications/preferences/",
        apis.PreferencesApi.as_view(),
        name="notification-preferences",
    ),
]
