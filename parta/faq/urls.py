from django.urls import path

from parta.faq import views, workspace

app_name = "faq"

urlpatterns = [
    path("support/", views.support, name="support"),
    path("support/suggest/", views.suggest, name="suggest"),
    path("workspace/faq/", workspace.index, name="workspace"),
    path("workspace/faq/new/", workspace.entry_create, name="workspace-entry-new"),
    path("workspace/faq/<id:pk>/", workspace.entry_edit, name="workspace-entry"),
    path("workspace/faq/<id:pk>/delete/", workspace.entry_delete, name="workspace-entry-delete"),
    path("workspace/faq/<id:pk>/move/", workspace.entry_move, name="workspace-entry-move"),
    path(
        "workspace/faq/categories/new/",
        workspace.category_create,
        name="workspace-category-new",
    ),
    path(
        "workspace/faq/categories/<id:pk>/",
        workspace.category_edit,
        name="workspace-category",
    ),
    path(
        "workspace/faq/categories/<id:pk>/delete/",
        workspace.category_delete,
        name="workspace-category-delete",
    ),
    path(
        "workspace/faq/categories/<id:pk>/move/",
        workspace.category_move,
        name="workspace-category-move",
    ),
]
