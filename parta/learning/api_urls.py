from django.urls import path

from parta.access.apis import AccessCheckApi
from parta.learning import apis

urlpatterns = [
    path("courses/", apis.CourseListApi.as_view(), name="courses"),
    path("courses/<slug:slug>/", apis.CourseDetailApi.as_view(), name="course"),
    path("tasks/<id:pk>/answer/", apis.TaskAnswerApi.as_view(), name="task-answer"),
    path("me/stats/<id:course_id>/", apis.MyStatsApi.as_view(), name="my-stats"),
    path(
        "students/<id:user_id>/stats/<id:course_id>/",
        apis.StudentStatsApi.as_view(),
        name="student-stats",
    ),
    path(
        "access/check/<id:course_id>/<id:user_id>/",
        AccessCheckApi.as_view(),
        name="access-check",
    ),
]
