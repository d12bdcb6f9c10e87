from django.urls import path

from appeals import views

app_name = "appeals"

urlpatterns = [
    path("projects/<int:project_id>/appeals/", views.queue, name="queue"),
    path("projects/<int:project_id>/appeals/<int:appeal_id>/", views.appeal, name="appeal"),
    path(
        "projects/<int:project_id>/appeals/<int:appeal_id>/decision/",
        views.decide,
        name="decide",
    ),
    path(
        "projects/<int:project_id>/my-work/<int:annotation_id>/appeal/",
        views.file_rejection,
        name="file-rejection",
    ),
    path("projects/<int:project_id>/my-work/pause-appeal/", views.file_pause, name="file-pause"),
]
