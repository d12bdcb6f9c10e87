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
]
