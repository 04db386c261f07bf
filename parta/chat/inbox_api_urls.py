from django.urls import path

from parta.chat import inbox_apis as apis

urlpatterns = [
    path("inbox/threads/", apis.InboxThreadListApi.as_view(), name="inbox-threads"),
    path("inbox/threads/<id:pk>/take/", apis.InboxTakeApi.as_view(), name="inbox-thread-take"),
    path(
        "inbox/threads/<id:pk>/assign/", apis.InboxAssignApi.as_view(), name="inbox-thread-assign"
    ),
    path("inbox/threads/<id:pk>/notes/", apis.InboxNotesApi.as_view(), name="inbox-thread-notes"),
    path("inbox/threads/<id:pk>/close/", apis.InboxCloseApi.as_view(), name="inbox-thread-close"),
    path(
        "inbox/threads/<id:pk>/reopen/", apis.InboxReopenApi.as_view(), name="inbox-thread-reopen"
    ),
]
