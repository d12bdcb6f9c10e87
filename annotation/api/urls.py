from django.urls import path

from annotation.api import views

urlpatterns = [
    path(
        "projects/<int:project_id>/tasks/", views.ProjectTaskListApi.as_view(), name="project-tasks"
    ),
    path("tasks/<int:task_id>/", views.TaskDetailApi.as_view(), name="task-detail"),
    path("imports/<int:import_id>/", views.ImportDetailApi.as_view(), name="import-detail"),
]
