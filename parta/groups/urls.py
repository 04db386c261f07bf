from django.urls import path

from parta.groups import calendar_views, session_views, views

app_name = "groups"

urlpatterns = [
    path("workspace/courses/<id:pk>/groups/", views.course_groups, name="course-groups"),
    path("workspace/groups/<id:pk>/", views.group_page, name="group"),
    path("workspace/groups/<id:pk>/move/", views.group_move, name="group-move"),
    path(
        "workspace/courses/<id:pk>/sessions/",
        session_views.course_sessions,
        name="course-sessions",
    ),
    path("workspace/sessions/<id:pk>/", session_views.session_page, name="session"),
    path(
        "workspace/sessions/<id:pk>/cancel/",
        session_views.session_cancel_view,
        name="session-cancel",
    ),
    path(
        "workspace/sessions/<id:pk>/attendance/",
        session_views.session_attendance,
        name="session-attendance",
    ),
    path("sessions/", session_views.my_sessions, name="my-sessions"),
    path(
        "sessions/invitations/<id:pk>/respond/",
        session_views.my_session_respond,
        name="my-session-respond",
    ),
    path("sessions/<id:pk>/ics/", calendar_views.session_ics, name="session-ics"),
    path(
        "sessions/calendar/new-link/",
        calendar_views.calendar_new_link,
        name="calendar-new-link",
    ),
    path(
        "sessions/calendar/<str:token>.ics",
        calendar_views.calendar_feed,
        name="calendar-feed",
    ),
    path(
        "sessions/respond/<str:token>/",
        session_views.respond_link,
        name="session-respond-link",
    ),
]
