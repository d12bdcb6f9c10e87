from django.urls import path

from annotation.api import views

urlpatterns = [
    path("projects/<int:project_id>/next/", views.NextTaskView.as_view(), name="api-next-task"),
    path(
        "assignments/<int:assignment_id>/draft/",
        views.DraftView.as_view(),
        name="api-assignment-draft",
    ),
    path(
        "assignments/<int:assignment_id>/submit/",
        views.SubmitView.as_view(),
        name="api-assignment-submit",
    ),
    path(
        "assignments/<int:assignment_id>/skip/",
        views.SkipView.as_view(),
        name="api-assignment-skip",
    ),
    path(
        "projects/<int:project_id>/tasks/", views.ProjectTaskListApi.as_view(), name="project-tasks"
    ),
    path(
        "projects/<int:project_id>/tasks/bulk/",
        views.ProjectTaskBulkApi.as_view(),
        name="project-tasks-bulk",
    ),
    path("imports/<int:import_id>/", views.ImportDetailApi.as_view(), name="import-detail"),
]
