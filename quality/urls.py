from django.urls import path

from quality import task_page, views

app_name = "quality"

urlpatterns = [
    path("projects/<int:project_id>/reviews/", views.review_queue, name="review-queue"),
    path("projects/<int:project_id>/reviews/next/", views.review_next, name="review-next"),
    path("projects/<int:project_id>/reviews/<int:task_id>/", views.review, name="review"),
    path(
        "projects/<int:project_id>/reviews/<int:task_id>/verdict/",
        views.review_verdict,
        name="review-verdict",
    ),
    path(
        "projects/<int:project_id>/tasks/<int:task_id>/",
        task_page.task_page_view,
        name="task-page",
    ),
    path("projects/<int:project_id>/tasks/<int:task_id>/flag/", views.task_flag, name="task-flag"),
    path("projects/<int:project_id>/my-work/", views.my_work, name="my-work"),
    path(
        "projects/<int:project_id>/my-work/<int:annotation_id>/",
        views.my_answer,
        name="my-work-answer",
    ),
    path("projects/<int:project_id>/quality/", views.dashboard, name="dashboard"),
    path(
        "projects/<int:project_id>/contributors/<int:user_id>/pause/",
        views.contributor_pause,
        name="contributor-pause",
    ),
    path(
        "projects/<int:project_id>/contributors/<int:user_id>/resume/",
        views.contributor_resume,
        name="contributor-resume",
    ),
]
