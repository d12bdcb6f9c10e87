from django.urls import path

from backends import api

urlpatterns = [
    path("projects/<int:project_id>/backends/", api.BackendListApi.as_view(), name="api-backends"),
    path(
        "projects/<int:project_id>/backends/<int:backend_id>/",
        api.BackendDetailApi.as_view(),
        name="api-backend",
    ),
    path(
        "projects/<int:project_id>/backends/<int:backend_id>/predict/",
        api.BackendPredictApi.as_view(),
        name="api-backend-predict",
    ),
]
