from django.urls import path

from parta.common import files_views

app_name = "files"

urlpatterns = [
    path("<str:token>/<str:filename>", files_views.serve_file, name="serve"),
]
