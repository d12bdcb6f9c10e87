from django.urls import path

from quality.api import views
from quality.api.task_detail import TaskDetailApi

urlpatterns = [
    # One task with its answers, outcome and reviews: quality owns it, since it shows all three.
    path("tasks/<int:task_id>/", TaskDetailApi.as_view(), name="task-detail"),
    path(
        "projects/<int:project_id>/reviews/next/",
        views.ReviewNextView.as_view(),
        name="api-review-next",
    ),
    path("reviews/<int:task_id>/", views.ReviewVerdictView.as_view(), name="api-review-verdict"),
    path(
        "projects/<int:project_id>/contributors/",
        views.ContributorsView.as_view(),
        name="api-contributors",
    ),
    path(
        "projects/<int:project_id>/contributors/<int:user_id>/pause/",
        views.ContributorPauseView.as_view(),
        name="api-contributor-pause",
    ),
    path(
        "projects/<int:project_id>/contributors/<int:user_id>/resume/",
        views.ContributorResumeView.as_view(),
        name="api-contributor-resume",
    ),
    path(
        "projects/<int:project_id>/agreement/",
        views.AgreementView.as_view(),
        name="api-agreement",
    ),
    path(
        "projects/<int:project_id>/position-bias/",
        views.PositionBiasView.as_view(),
        name="api-position-bias",
    ),
]
