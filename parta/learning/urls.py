from django.urls import path

from parta.learning import views

app_name = "learning"

urlpatterns = [
    path("courses/", views.catalogue, name="catalogue"),
    path("courses/<slug:slug>/", views.course_page, name="course"),
    path("courses/<slug:slug>/figures/", views.course_figures, name="course-figures"),
    path("courses/<slug:slug>/lessons/<id:pk>/", views.lesson_page, name="lesson"),
    path("courses/<slug:slug>/tasks/<id:pk>/", views.task_page, name="task"),
    path("courses/<slug:slug>/tests/<id:pk>/", views.test_page, name="test"),
    path("courses/<slug:slug>/tests/<id:pk>/start/", views.test_start, name="test-start"),
    path(
        "courses/<slug:slug>/tests/<id:pk>/answer/<id:task_pk>/",
        views.test_answer,
        name="test-answer",
    ),
    path("courses/<slug:slug>/tests/<id:pk>/submit/", views.test_submit, name="test-submit"),
    path("my-courses/", views.my_courses, name="my-courses"),
    path("stats/", views.my_stats, name="my-stats"),
    path("students/", views.students, name="students"),
    path("students/<id:user_id>/stats/", views.student_stats, name="student-stats"),
]
