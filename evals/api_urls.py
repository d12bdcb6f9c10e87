from django.urls import path

from evals import api

P = "projects/<int:project_id>/evals/"

urlpatterns = [
    path(f"{P}prompts/", api.ItemListApi.as_view(), name="api-evals-prompts"),
    path(f"{P}models/", api.ModelListApi.as_view(), name="api-evals-models"),
    path(f"{P}models/<int:model_id>/", api.ModelDetailApi.as_view(), name="api-evals-model"),
    path(f"{P}runs/", api.RunListApi.as_view(), name="api-evals-runs"),
    path(f"{P}runs/<int:run_id>/", api.RunDetailApi.as_view(), name="api-evals-run"),
    path(f"{P}runs/<int:run_id>/cancel/", api.RunCancelApi.as_view(), name="api-evals-run-cancel"),
    path(f"{P}responses/", api.ResponseListApi.as_view(), name="api-evals-responses"),
    path(f"{P}route/", api.RouteApi.as_view(), name="api-evals-route"),
    path(f"{P}judges/", api.JudgeListApi.as_view(), name="api-evals-judges"),
    path(f"{P}judges/<int:judge_id>/", api.JudgeDetailApi.as_view(), name="api-evals-judge"),
    path(f"{P}judges/<int:judge_id>/runs/", api.JudgeRunApi.as_view(), name="api-evals-judge-runs"),
    path(
        f"{P}judges/<int:judge_id>/calibrate/",
        api.JudgeCalibrateApi.as_view(),
        name="api-evals-judge-calibrate",
    ),
    path(f"{P}leaderboard/", api.LeaderboardApi.as_view(), name="api-evals-leaderboard"),
    path(f"{P}export/", api.ExportApi.as_view(), name="api-evals-export"),
    path(
        "audits/<int:audit_id>/rubric/judge/", api.AuditJudgeApi.as_view(), name="api-audit-judge"
    ),
]
