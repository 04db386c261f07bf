from django.urls import path

from parta.access.apis import AccessCheckApi
from parta.learning import apis

urlpatterns = [
    path("courses/", apis.CourseListApi.as_view(), name="courses"),
    path("courses/<slug:slug>/", apis.CourseDetailApi.as_view(), name="course"),
    path("tasks/<int:pk>/answer/", apis.TaskAnswerApi.as_view(), name="task-answer"),
    path("me/stats/<int:course_id>/", apis.MyStatsApi.as_view(), name="my-stats"),
    path(
        "students/<int:user_id>/stats/<int:course_id>/",
        apis.StudentStatsApi.as_view(),
        name="student-stats",
    ),
    path(
        "access/check/<int:course_id>/<int:user_id>/",
        AccessCheckApi.as_view(),
        name="access-check",
    ),
]
