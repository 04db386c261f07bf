from django.urls import path

from parta.news import views, workspace

app_name = "news"

urlpatterns = [
    path("news/", views.news_list, name="list"),
    path("news/<int:pk>/", views.news_detail, name="detail"),
    path("news/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("workspace/news/", workspace.index, name="workspace"),
    path("workspace/news/new/", workspace.create, name="workspace-new"),
    path("workspace/news/<int:pk>/", workspace.detail, name="workspace-post"),
    path("workspace/news/<int:pk>/edit/", workspace.edit, name="workspace-edit"),
    path("workspace/news/<int:pk>/progress/", workspace.progress, name="workspace-progress"),
    path("workspace/news/<int:pk>/cancel/", workspace.cancel, name="workspace-cancel"),
]
