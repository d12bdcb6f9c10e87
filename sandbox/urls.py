from django.urls import path

from sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("tasks/<int:task_id>/check/", views.check, name="check"),
    path("proofs/<int:proof_id>/", views.proof_panel, name="proof"),
    path("answers/<int:annotation_id>/proof/", views.answer_proof, name="answer-proof"),
    path("tasks/<int:task_id>/audits/", views.task_audits, name="task-audits"),
    path("projects/<int:project_id>/audits/", views.project_audits, name="project-audits"),
]
