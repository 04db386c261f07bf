from django.urls import path

from parta.news import apis

urlpatterns = [
    path("news/", apis.NewsListApi.as_view(), name="news"),
    path("news/<int:pk>/", apis.NewsDetailApi.as_view(), name="news-detail"),
]
