"""Proofs: one Check of an answer's content, and the sandboxed runs it took.

A :class:`Proof` is of exactly one content (``content_key``, the SHA-256 of the cleaned
answer's canonical JSON): an answer whose content changed after its Check is not proven. It
belongs to a task and, when the Check was made from a lease, to that assignment (whose
submission is the answer the proof is stored with); a reviewer's Check of a fix has none.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotation.models import Assignment, Task
from labelhub.models import Project


class ProofStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    ERROR = "error", "Could not run"


class Proof(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="proofs")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="proofs")
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="proofs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_key = models.CharField(max_length=64)
    result = models.JSONField()
    status = models.CharField(
        max_length=20, choices=ProofStatus.choices, default=ProofStatus.QUEUED
    )
    holds = models.BooleanField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "content_key", "-id"], name="proof_by_content"),
            models.Index(fields=["task", "-id"], name="proof_by_task"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ProofStatus.values), name="proof_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Proof {self.pk} of task {self.task_id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (ProofStatus.DONE, ProofStatus.ERROR)


class RunKind(models.TextChoices):
    SOLUTION = "solution", "Reference solution"
    WRONG_ATTEMPT = "wrong_attempt", "Wrong attempt"
    REPEAT = "repeat", "Verifier again (flakiness)"


class ProofRun(models.Model):
    """One sandboxed run of a proof: its reward, whether it did what it must, its output
    (capped), its time and why it failed."""

    proof = models.ForeignKey(Proof, on_delete=models.CASCADE, related_name="runs")
    run = models.CharField(max_length=20, choices=RunKind.choices)
    reward = models.FloatField(null=True, blank=True)
    passed = models.BooleanField(default=False)
    status = models.CharField(max_length=20)
    reason = models.TextField(blank=True, default="")
    output = models.TextField(blank=True, default="")
    seconds = models.FloatField(default=0.0)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["proof", "run"], name="proof_run_once"),
        ]

    def __str__(self) -> str:
        return f"{self.run} of proof {self.proof_id}"


class AuditAttempt(models.Model):
    """An audit of an accepted task: someone other than its author tries the task themselves
    (``attempt``, a bash script from the starting files), says beforehand whether they expect
    the verifier to pass it (``expected_pass``), and the task's verifier judges it in the
    sandbox. ``agrees``: the verifier judged it as its auditor expected — the evidence that a
    task measures what it says. One attempt per auditor and task."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="audit_attempts")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="audit_attempts")
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    attempt = models.TextField()
    expected_pass = models.BooleanField()
    note = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(
        max_length=20, choices=ProofStatus.choices, default=ProofStatus.QUEUED
    )
    reward = models.FloatField(null=True, blank=True)
    verifier_passed = models.BooleanField(null=True, blank=True)
    agrees = models.BooleanField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    output = models.TextField(blank=True, default="")
    seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The task's rubric claims graded on this attempt by someone other than its auditor: one
    # met / not met per claim, and the reward they come to (points met over positive points).
    rubric_grades = models.JSONField(null=True, blank=True)
    rubric_reward = models.FloatField(null=True, blank=True)
    rubric_graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The files the attempt changed, each with a unified diff (what a judge model reads).
    changes = models.JSONField(default=list, blank=True)
    # A judge model's grading of the same claims, kept beside a person's (never over it), so the
    # two can be compared: ``rubric_judge`` names the judge and version ("grader v2"),
    # ``rubric_judged_by`` is the contributor that version works as, ``judge_status`` is blank
    # until a judge is asked, then queued, running, done or error (``judge_error`` says why).
    judge_grades = models.JSONField(null=True, blank=True)
    judge_reward = models.FloatField(null=True, blank=True)
    rubric_judge = models.CharField(max_length=200, blank=True, default="")
    rubric_judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    judge_status = models.CharField(max_length=20, blank=True, default="")
    judge_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["project", "task"], name="audit_by_task")]
        constraints = [
            models.UniqueConstraint(fields=["task", "auditor"], name="audit_once_per_auditor"),
            models.CheckConstraint(
                condition=Q(status__in=ProofStatus.values), name="audit_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(judge_status__in=["", *ProofStatus.values]),
                name="audit_judge_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Audit of task {self.task_id} by {self.auditor_id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (ProofStatus.DONE, ProofStatus.ERROR)

    @property
    def judging(self) -> bool:
        return self.judge_status in (ProofStatus.QUEUED, ProofStatus.RUNNING)

    @property
    def rubric_agreement(self) -> dict | None:
        """How a person's and a judge's grades of the claims compare, once both exist:
        ``{"claims", "agreeing", "share"}``."""
        person, judge = self.rubric_grades, self.judge_grades
        if not person or not judge or len(person) != len(judge):
            return None
        agreeing = sum(a == b for a, b in zip(person, judge, strict=True))
        return {
            "claims": len(person),
            "agreeing": agreeing,
            "share": round(agreeing / len(person), 4),
        }
