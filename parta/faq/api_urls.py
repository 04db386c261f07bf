from django.urls import path

from parta.faq import apis

urlpatterns = [
    path("faq/", apis.FaqListApi.as_view(), name="faq"),
    path("faq/search/", apis.FaqSearchApi.as_view(), name="faq-search"),
]
