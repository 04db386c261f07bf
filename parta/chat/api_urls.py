from django.urls import path

from parta.chat import apis

urlpatterns = [
    path("chat/threads/", apis.ThreadListApi.as_view(), name="chat-threads"),
    path("chat/threads/task/", apis.TaskThreadOpenApi.as_view(), name="chat-thread-task"),
    path("chat/threads/support/", apis.SupportThreadOpenApi.as_view(), name="chat-thread-support"),
    path("chat/threads/<id:pk>/", apis.ThreadDetailApi.as_view(), name="chat-thread"),
    path(
        "chat/threads/<id:pk>/messages/",
        apis.ThreadMessagesApi.as_view(),
        name="chat-thread-messages",
    ),
    path("chat/threads/<id:pk>/read/", apis.ThreadReadApi.as_view(), name="chat-thread-read"),
]
