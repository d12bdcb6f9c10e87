"""Tasks and their import.

A task is one unit of work: the kind-specific ``data`` (an image, a prompt with responses, an audio
clip), optional model ``predictions`` to start from, and for gold tasks a hidden known answer.
``overlap`` (answers wanted) and ``answer_count`` (answers in) are kept on the row so that the queue
never has to count annotations.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from labelhub.models import Project


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANNOTATED = "annotated", "Annotated"
    CONSOLIDATED = "consolidated", "Consolidated"
    IN_REVIEW = "in_review", "In review"
    ACCEPTED = "accepted", "Accepted"


def task_media_path(task: "Task", filename: str) -> str:
    return f"projects/{task.project_id}/media/{filename}"


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    data = models.JSONField()
    external_id = models.CharField(max_length=200, blank=True, default="")
    is_gold = models.BooleanField(default=False)
    gold = models.JSONField(null=True, blank=True)
    predictions = models.JSONField(default=list, blank=True)
    callback_url = models.URLField(max_length=2000, blank=True, default="")
    priority = models.IntegerField(default=0)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    overlap = models.PositiveSmallIntegerField(default=1)
    answer_count = models.PositiveIntegerField(default=0)
    media = models.FileField(upload_to=task_media_path, blank=True, max_length=500)
    thumbnail = models.FileField(upload_to=task_media_path, blank=True, max_length=500)
    media_meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=~Q(external_id=""),
                name="task_external_id_unique_in_project",
            ),
            models.CheckConstraint(
                condition=Q(is_gold=False) | Q(gold__isnull=False), name="task_gold_has_answer"
            ),
        ]
        indexes = [models.Index(fields=["project", "status"], name="task_project_status")]

    def __str__(self) -> str:
        return f"Task {self.pk} of {self.project_id}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def import_upload_path(job: "ImportJob", filename: str) -> str:
    return f"projects/{job.project_id}/imports/{filename}"


class ImportJob(models.Model):
    """A file import that runs in the background; the page polls its progress."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    upload = models.FileField(upload_to=import_upload_path, max_length=500)
    original_name = models.CharField(max_length=300)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # How to read the upload, e.g. {"coco": "gold"} for a COCO file of gold answers.
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.original_name}"
