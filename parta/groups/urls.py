from django.urls import path

from parta.groups import views

app_name = "groups"

urlpatterns = [
    path("workspace/courses/<id:pk>/groups/", views.course_groups, name="course-groups"),
    path("workspace/groups/<id:pk>/", views.group_page, name="group"),
    path("workspace/groups/<id:pk>/move/", views.group_move, name="group-move"),
]
