from django.urls import path

from genai import views

app_name = "genai"

urlpatterns = [
    path("projects/<int:project_id>/model/", views.model_settings, name="model-settings"),
    path(
        "projects/<int:project_id>/assignments/<int:assignment_id>/live/",
        views.live_turn,
        name="live-turn",
    ),
]
