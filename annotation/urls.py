from django.urls import path

from annotation import views

app_name = "annotation"

urlpatterns = [
    path("tasks/<int:task_id>/media/", views.task_media, name="task-media"),
    path(
        "tasks/<int:task_id>/thumbnail/",
        views.task_media,
        {"thumbnail": True},
        name="task-thumbnail",
    ),
    path(
        "projects/<int:project_id>/tasks/<int:task_id>/preview/",
        views.task_preview,
        name="task-preview",
    ),
    path(
        "projects/<int:project_id>/tasks/<int:task_id>/preview/check/",
        views.task_preview_check,
        name="task-preview-check",
    ),
    path("projects/<int:project_id>/label/", views.work, name="work"),
    path("projects/<int:project_id>/label/next/", views.work_next, name="work-next"),
    path(
        "projects/<int:project_id>/label/<int:assignment_id>/submit/",
        views.work_submit,
        name="work-submit",
    ),
    path(
        "projects/<int:project_id>/label/<int:assignment_id>/skip/",
        views.work_skip,
        name="work-skip",
    ),
    path("projects/<int:project_id>/tasks/", views.task_list, name="task-list"),
    path("projects/<int:project_id>/tasks/import/", views.task_import, name="task-import"),
    path("projects/<int:project_id>/tasks/bulk/", views.task_bulk, name="task-bulk"),
    path(
        "projects/<int:project_id>/imports/<int:import_id>/",
        views.import_status,
        name="import-status",
    ),
]
