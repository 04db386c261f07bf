from django.urls import path

from parta.chat import views

app_name = "chat"

urlpatterns = [
    path("chat/", views.my_threads, name="my-threads"),
    path("chat/threads/<id:pk>/", views.thread_page, name="thread"),
    path("chat/threads/<id:pk>/messages/", views.thread_messages, name="thread-messages"),
    path("tasks/<id:pk>/ask/", views.task_ask, name="task-ask"),
    path("support/new/", views.support_new, name="support-new"),
]
