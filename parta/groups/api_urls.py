from django.urls import path

from parta.groups import apis, calendar_apis, session_apis

urlpatterns = [
    path("groups/mine/", apis.MyGroupsApi.as_view(), name="groups-mine"),
    path("courses/<id:course_id>/groups/", apis.CourseGroupsApi.as_view(), name="course-groups"),
    path("groups/<id:pk>/", apis.GroupApi.as_view(), name="group"),
    path("groups/<id:pk>/members/", apis.GroupMembersApi.as_view(), name="group-members"),
    path("sessions/mine/", session_apis.MySessionsApi.as_view(), name="sessions-mine"),
    path(
        "sessions/invitations/<id:pk>/answer/",
        session_apis.MyAnswerApi.as_view(),
        name="invitation-answer",
    ),
    path(
        "courses/<id:course_id>/sessions/",
        session_apis.CourseSessionsApi.as_view(),
        name="course-sessions",
    ),
    path("sessions/<id:pk>/", session_apis.SessionApi.as_view(), name="session"),
    path(
        "sessions/<id:pk>/cancel/", session_apis.SessionCancelApi.as_view(), name="session-cancel"
    ),
    path(
        "sessions/<id:pk>/responses/",
        session_apis.SessionResponsesApi.as_view(),
        name="session-responses",
    ),
    path("calendar-feed/", calendar_apis.CalendarFeedApi.as_view(), name="calendar-feed"),
]
