from django.urls import path

from parta.groups import apis

urlpatterns = [
    path("groups/mine/", apis.MyGroupsApi.as_view(), name="groups-mine"),
    path("courses/<id:course_id>/groups/", apis.CourseGroupsApi.as_view(), name="course-groups"),
    path("groups/<id:pk>/", apis.GroupApi.as_view(), name="group"),
    path("groups/<id:pk>/members/", apis.GroupMembersApi.as_view(), name="group-members"),
]
