from django.urls import path

from parta.chat import inbox_views as views

app_name = "inbox"

urlpatterns = [
    path("inbox/", views.index, name="index"),
    path("inbox/threads/<id:pk>/", views.thread_page, name="thread"),
    path("inbox/threads/<id:pk>/take/", views.thread_take, name="take"),
    path("inbox/threads/<id:pk>/assign/", views.thread_assign, name="assign"),
    path("inbox/threads/<id:pk>/close/", views.thread_close, name="close"),
    path("inbox/threads/<id:pk>/reopen/", views.thread_reopen, name="reopen"),
    path("inbox/threads/<id:pk>/notes/", views.note_add, name="note-add"),
    path("inbox/replies/", views.replies, name="replies"),
    path("inbox/replies/<id:pk>/", views.reply_edit, name="reply-edit"),
    path("inbox/replies/<id:pk>/delete/", views.reply_delete, name="reply-delete"),
]
