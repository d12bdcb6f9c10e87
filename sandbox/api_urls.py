from django.urls import path

from sandbox.api import (
    AuditRubricApi,
    ProjectAuditsApi,
    ProofApi,
    TaskAuditsApi,
    TaskProofsApi,
)

urlpatterns = [
    path("tasks/<int:task_id>/proofs/", TaskProofsApi.as_view(), name="api-task-proofs"),
    path("proofs/<int:proof_id>/", ProofApi.as_view(), name="api-proof"),
    path("tasks/<int:task_id>/audits/", TaskAuditsApi.as_view(), name="api-task-audits"),
    path("audits/<int:audit_id>/rubric/", AuditRubricApi.as_view(), name="api-audit-rubric"),
    path(
        "projects/<int:project_id>/audits/", ProjectAuditsApi.as_view(), name="api-project-audits"
    ),
]
