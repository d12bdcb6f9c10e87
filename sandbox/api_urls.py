from django.urls import path

from sandbox.api import ProofApi, TaskProofsApi

urlpatterns = [
    path("tasks/<int:task_id>/proofs/", TaskProofsApi.as_view(), name="api-task-proofs"),
    path("proofs/<int:proof_id>/", ProofApi.as_view(), name="api-proof"),
]
