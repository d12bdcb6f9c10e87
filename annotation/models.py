"""Tasks and their import.

A task is one unit of work: the kind-specific ``data`` (an image, a prompt with responses, an audio
clip), optional model ``predictions`` to start from, and for gold tasks a hidden known answer.
``overlap`` (answers wanted), ``answer_count`` (answers in) and ``lease_count`` (answers promised:
leases not yet submitted, skipped or reclaimed) are kept on the row so that the queue never has to
count annotations. See :mod:`annotation.queue` for how the counters move.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

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
    # The lowest confidence (0..1) a model gave for this task's predictions, if any gave one.
    prediction_score = models.FloatField(null=True, blank=True)
    # Within one priority, the order the queue hands tasks out in (lowest first), kept by
    # ``annotation.services.tasks_rank`` from the project's ``queue_order``: 0 everywhere in
    # priority order, the prediction score for lowest-score-first, a random number for random.
    # One column, so one index serves every order and the claim stays one index walk.
    queue_rank = models.FloatField(default=0.0, db_default=0.0)
    # The task's own content categories (bits, see labelhub.content), beside its project's.
    content_flags = models.BigIntegerField(default=0, db_default=0)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    overlap = models.PositiveSmallIntegerField(default=1)
    answer_count = models.PositiveIntegerField(default=0)
    lease_count = models.PositiveIntegerField(default=0)
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
            # Never more answers plus live leases than the overlap (gold tasks have no cap).
            models.CheckConstraint(
                condition=Q(is_gold=True) | Q(lease_count__lte=F("overlap") - F("answer_count")),
                name="task_never_over_assigned",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"], name="task_project_status"),
            # The queue: only tasks that still have a free slot, in the order they are handed out.
            models.Index(
                F("project"),
                F("priority").desc(),
                F("queue_rank"),
                F("id"),
                condition=Q(status=TaskStatus.OPEN, is_gold=False)
                & Q(lease_count__lt=F("overlap") - F("answer_count")),
                name="task_queue_ranked",
            ),
            # The same queue without the tasks that carry a content category of their own: the
            # walk of a person who opted out of every category the project's tasks carry.
            models.Index(
                F("project"),
                F("priority").desc(),
                F("queue_rank"),
                F("id"),
                condition=Q(status=TaskStatus.OPEN, is_gold=False, content_flags=0)
                & Q(lease_count__lt=F("overlap") - F("answer_count")),
                name="task_queue_unmarked",
            ),
            models.Index(
                F("project"),
                F("priority").desc(),
                F("queue_rank"),
                F("id"),
                condition=Q(is_gold=True),
                name="task_queue_gold_ranked",
            ),
        ]

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


class ContributorStatus(models.TextChoices):
    QUALIFYING = "qualifying", "Qualifying"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    DISQUALIFIED = "disqualified", "Disqualified"


class ProjectContributor(models.Model):
    """What the queue needs to know about one contributor on one project.

    Created on the first "next task". ``gold_answered_count`` and ``gold_score_sum`` move with F()
    when a gold answer is scored; the quality app builds the contributor's standing on them.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="contributors")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_standings"
    )
    status = models.CharField(
        max_length=20, choices=ContributorStatus.choices, default=ContributorStatus.ACTIVE
    )
    pause_reason = models.TextField(blank=True, default="")
    gold_answered_count = models.PositiveIntegerField(default=0)
    gold_score_sum = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="project_contributor_unique"),
            models.CheckConstraint(
                condition=Q(status__in=ContributorStatus.values),
                name="project_contributor_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.project} ({self.status})"

    @property
    def gold_mean_score(self) -> float | None:
        if not self.gold_answered_count:
            return None
        return self.gold_score_sum / self.gold_answered_count


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUBMITTED = "submitted", "Submitted"
    SKIPPED = "skipped", "Skipped"
    EXPIRED = "expired", "Expired"


class Assignment(models.Model):
    """A lease of one task to one contributor, with the draft of their answer.

    A live lease is ``status=active`` with ``lease_expires_at`` in the future. An active lease
    whose time has passed still holds its slot until a claim reclaims it (status ``expired``).
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    # No index of its own: (task, contributor) is unique, and an index led by the contributor
    # tempts the planner into scanning all of a person's assignments for every queue candidate.
    contributor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="assignments",
        db_index=False,
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(
        max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.ACTIVE
    )
    lease_expires_at = models.DateTimeField()
    draft = models.JSONField(null=True, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    active_seconds = models.PositiveIntegerField(default=0)
    skip_reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "contributor"], name="assignment_once_per_contributor"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AssignmentStatus.values), name="assignment_status_valid"
            ),
        ]
        indexes = [
            # "Does this contributor hold a lease here?" — one probe per claim.
            models.Index(
                fields=["project", "contributor"],
                condition=Q(status=AssignmentStatus.ACTIVE),
                name="assignment_live_by_contributor",
            ),
            # Leases whose time is up, oldest first: reclaimed by the next claim.
            models.Index(
                fields=["project", "lease_expires_at"],
                condition=Q(status=AssignmentStatus.ACTIVE),
                name="assignment_live_by_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"Assignment {self.pk} of task {self.task_id} to {self.contributor_id}"


class Annotation(models.Model):
    """One submitted answer. One per assignment, so a repeated submit stores nothing new."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="annotations")
    contributor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations"
    )
    assignment = models.OneToOneField(
        Assignment, on_delete=models.CASCADE, related_name="annotation"
    )
    result = models.JSONField()
    # The candidate ids in the order this person was shown them (kinds.shown_order: derived by
    # the server from task and person, never sent by the client); [] when nothing is compared.
    shown_order = models.JSONField(default=list, db_default=[], blank=True)
    active_seconds = models.PositiveIntegerField(default=0)
    # Score against the gold answer (0..1) when the task is gold; never shown to the contributor.
    gold_score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the quality step counted this answer (standing, gold, consolidation of its task).
    # Empty means waiting: the rows with no date are the pipeline's backlog, read through the
    # partial index below, so the line behind the queue is one indexed query away.
    judged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "contributor"], name="annotation_once_per_contributor"
            ),
        ]
        indexes = [
            models.Index(
                fields=["id"],
                name="annotation_awaiting_judgement",
                condition=models.Q(judged_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Annotation {self.pk} of task {self.task_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookDelivery(models.Model):
    """One POST of a task's outcome to its ``callback_url``, with its retries and their log.

    The row is the source of truth: a worker that dies mid-attempt leaves it pending with its next
    attempt time, and ``manage.py deliver_webhooks`` (or the next enqueue) picks it up again.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="webhook_deliveries")
    event = models.CharField(max_length=40)
    url = models.URLField(max_length=2000)
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_pending_due",
            ),
            models.Index(fields=["project", "-created_at"], name="webhook_project_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event} for task {self.task_id} ({self.status})"


class SensitiveWorkDay(models.Model):
    """A person's work on sensitive tasks in one organization on one day (their local date).

    Written only by the submit of a sensitive task (one upsert), read by the work screen for the
    break suggestion and by the cap: ``seconds`` counts active time, ``streak`` the sensitive tasks
    done since the last pause of ``annotation.queue.BREAK_GAP`` or more.
    """

    organization = models.ForeignKey(
        "labelhub.Organization", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    seconds = models.PositiveIntegerField(default=0)
    tasks = models.PositiveIntegerField(default=0)
    streak = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "day"], name="sensitive_work_once_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day}: {self.seconds} s sensitive"
