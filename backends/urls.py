from django.urls import path

from backends import views

app_name = "backends"

urlpatterns = [
    path("projects/<int:project_id>/backends/", views.backend_list, name="list"),
    path(
        "projects/<int:project_id>/backends/<int:backend_id>/action/",
        views.backend_action,
        name="action",
    ),
    path(
        "projects/<int:project_id>/tasks/<int:task_id>/predict/",
        views.task_predict,
        name="task-predict",
    ),
]
