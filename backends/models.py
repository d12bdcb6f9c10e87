"""Model backends: HTTP endpoints that pre-label a project's tasks (see ``backends.protocol``).

A backend's every ``model_version`` gets a user of its own (:class:`ModelVersion`), unable to log
in, so that the model's answers go through the queue's submit and the quality step like anybody's:
its gold accuracy, agreement, review sampling and the accuracy-floor pause are the people's rules.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotation.models import Annotation, Task
from labelhub.encryption import EncryptedTextField
from labelhub.models import Project


class ModelBackend(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="model_backends")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=2000, help_text="The backend's base URL (…/predict, …/health)")
    # The whole value of the Authorization header; never shown again after it is saved.
    auth_header = EncryptedTextField(blank=True, default="")  # encrypted at rest
    timeout_seconds = models.PositiveSmallIntegerField(default=30)
    batch_size = models.PositiveSmallIntegerField(default=16)
    enabled = models.BooleanField(default=True)
    predict_on_import = models.BooleanField(default=True)
    # The model's prediction counts as one answer toward the task's overlap.
    counts_as_answer = models.BooleanField(default=False)
    # With counts_as_answer: a prediction at least this confident is the task's only answer (its
    # acceptance is then sampled by the review rule of the model's standing). Empty: never.
    auto_accept_score = models.FloatField(null=True, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    health_ok = models.BooleanField(null=True, blank=True)
    health_message = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="model_backend_name_unique"),
            models.CheckConstraint(
                condition=Q(timeout_seconds__gte=1, timeout_seconds__lte=300),
                name="model_backend_timeout_range",
            ),
            models.CheckConstraint(
                condition=Q(batch_size__gte=1, batch_size__lte=500),
                name="model_backend_batch_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} on {self.project_id}"


class ModelVersion(models.Model):
    """One ``model_version`` a backend answered with, and the contributor it works as."""

    backend = models.ForeignKey(ModelBackend, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=100)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="model_version"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["backend", "version"], name="model_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.backend.name} {self.version}"


class Prediction(models.Model):
    """One answer of a model for one task, as it came (``Task.predictions`` holds a copy)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="model_predictions")
    backend = models.ForeignKey(ModelBackend, on_delete=models.CASCADE, related_name="predictions")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="predictions")
    result = models.JSONField()
    score = models.FloatField()
    # The answer the prediction was counted as (counts_as_answer), if it was.
    annotation = models.OneToOneField(
        Annotation, null=True, blank=True, on_delete=models.SET_NULL, related_name="prediction"
    )
    # The prediction against the task's reference (gold, else the accepted result): WER/CER,
    # IoU/F1 or agreement, and whether it was accepted unchanged; see backends.measure.
    measure = models.JSONField(default=dict, blank=True)
    measured_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["version", "created_at"], name="prediction_by_version"),
            models.Index(fields=["task", "backend"], name="prediction_by_task"),
        ]

    def __str__(self) -> str:
        return f"Prediction {self.pk} of task {self.task_id}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PredictionRun(models.Model):
    """One background pass of a backend over tasks (after an import, or on a manager's ask)."""

    backend = models.ForeignKey(ModelBackend, on_delete=models.CASCADE, related_name="runs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger = models.CharField(max_length=20, default="manual")  # manual, import, task
    task_ids = models.JSONField(default=list, blank=True)  # empty: every open task
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    predicted = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.backend_id} ({self.status})"
