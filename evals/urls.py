from django.urls import path

from evals import views

app_name = "evals"

urlpatterns = [
    path("projects/<int:project_id>/evals/", views.evals_home, name="home"),
    path("projects/<int:project_id>/evals/prompts/", views.items_import, name="items-import"),
    path(
        "projects/<int:project_id>/evals/responses/",
        views.responses_import,
        name="responses-import",
    ),
    path("projects/<int:project_id>/evals/runs/", views.run_start, name="run"),
    path("projects/<int:project_id>/evals/runs/status/", views.runs, name="runs"),
    path(
        "projects/<int:project_id>/evals/runs/<int:run_id>/cancel/",
        views.run_cancel,
        name="run-cancel",
    ),
    path("projects/<int:project_id>/evals/route/", views.route, name="route"),
    path("projects/<int:project_id>/evals/judges/", views.judges, name="judges"),
    path(
        "projects/<int:project_id>/evals/judges/<int:judge_id>/",
        views.judge_action,
        name="judge-action",
    ),
    path("projects/<int:project_id>/evals/leaderboard/", views.leaderboard, name="leaderboard"),
    path("projects/<int:project_id>/evals/export/<slug:name>/", views.export, name="export"),
    path("audits/<int:audit_id>/judge/", views.audit_judge, name="audit-judge"),
]
