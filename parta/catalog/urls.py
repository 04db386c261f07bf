from django.urls import path

from parta.catalog import workspace

app_name = "catalog"

urlpatterns = [
    # The moderator workspace.
    path("workspace/", workspace.index, name="workspace"),
    path("workspace/courses/new/", workspace.course_create, name="workspace-course-new"),
    path("workspace/courses/<id:pk>/", workspace.course_detail, name="workspace-course"),
    path("workspace/courses/<id:pk>/edit/", workspace.course_edit, name="workspace-course-edit"),
    path(
        "workspace/courses/<id:course_pk>/topics/new/",
        workspace.topic_create,
        name="workspace-topic-new",
    ),
    path("workspace/topics/<id:pk>/", workspace.topic_edit, name="workspace-topic"),
    path(
        "workspace/topics/<id:pk>/delete/", workspace.topic_delete, name="workspace-topic-delete"
    ),
    path(
        "workspace/topics/<id:topic_pk>/lessons/new/",
        workspace.lesson_create,
        name="workspace-lesson-new",
    ),
    path("workspace/lessons/<id:pk>/", workspace.lesson_edit, name="workspace-lesson"),
    path(
        "workspace/lessons/<id:pk>/delete/",
        workspace.lesson_delete,
        name="workspace-lesson-delete",
    ),
    path(
        "workspace/topics/<id:topic_pk>/tasks/new/",
        workspace.task_create,
        name="workspace-task-new",
    ),
    path("workspace/tasks/<id:pk>/", workspace.task_edit, name="workspace-task"),
    path("workspace/tasks/<id:pk>/delete/", workspace.task_delete, name="workspace-task-delete"),
    path(
        "workspace/topics/<id:topic_pk>/tests/new/",
        workspace.test_create,
        name="workspace-test-new",
    ),
    path("workspace/tests/<id:pk>/", workspace.test_edit, name="workspace-test"),
    path("workspace/tests/<id:pk>/delete/", workspace.test_delete, name="workspace-test-delete"),
]
