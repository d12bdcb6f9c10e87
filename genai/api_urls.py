from django.urls import path

from genai.api import LiveModelApi

urlpatterns = [
    path("projects/<int:project_id>/live-model/", LiveModelApi.as_view(), name="api-live-model"),
]
