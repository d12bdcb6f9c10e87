"""Quality: each task's outcome (consensus, agreement, accepted result), reviews, and each
contributor's standing on a project, kept up to date as answers and reviews come in.

``TaskOutcome.version`` guards reviews: a verdict names the version it was made on and lands only
if nobody changed the outcome since (another reviewer, a new consolidation), else a conflict.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotation.models import Annotation, ProjectContributor, Task
from labelhub.models import Project


class ReviewReason(models.TextChoices):
    LOW_AGREEMENT = "low_agreement", "Low agreement"
    SAMPLED = "sampled", "Sampled"
    FLAGGED = "flagged", "Flagged by a manager"


# The review queue serves flagged tasks first, then disagreements, then the sample.
REVIEW_PRIORITY = {
    ReviewReason.FLAGGED: 3,
    ReviewReason.LOW_AGREEMENT: 2,
    ReviewReason.SAMPLED: 1,
}


class TaskOutcome(models.Model):
    """What a non-gold task's answers came to.

    ``proposal`` is what would be accepted without a fix: the consensus of the answers (k ≥ 2)
    or the single answer (k = 1, then ``agreement`` and ``confidence`` are empty).
    ``accepted_result`` is set on acceptance: the reviewer's fix if any, else the proposal.
    """

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="outcome")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="outcomes")
    proposal = models.JSONField()
    is_consensus = models.BooleanField(default=False)
    confidence = models.FloatField(null=True, blank=True)
    agreement = models.FloatField(null=True, blank=True)
    answers_used = models.PositiveSmallIntegerField(default=0)
    review_reason = models.CharField(
        max_length=20, choices=ReviewReason.choices, blank=True, default=""
    )
    review_priority = models.PositiveSmallIntegerField(default=0)
    review_note = models.TextField(blank=True, default="")
    in_review_since = models.DateTimeField(null=True, blank=True)
    accepted_result = models.JSONField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # The transaction that set ``accepted_at`` (PostgreSQL's ``pg_current_xact_id()``, set by
    # the trigger of migration 0006 whatever the writer), the results feed's commit-ordered key.
    accepted_xid = models.BigIntegerField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["project", "computed_at"], name="outcome_project_computed"),
            # The incremental results feed: accepted results in the order they were accepted.
            models.Index(
                fields=["project", "accepted_at", "task"],
                condition=Q(accepted_at__isnull=False),
                name="outcome_project_accepted",
            ),
            # The feed on PostgreSQL: in the order the acceptances' transactions began, read
            # only below the oldest transaction still running (exports.selectors).
            models.Index(
                fields=["project", "accepted_xid", "task"],
                condition=Q(accepted_xid__isnull=False),
                name="outcome_project_accepted_xid",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_reason__in=["", *ReviewReason.values]),
                name="outcome_review_reason_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Outcome of task {self.task_id}"


class Verdict(models.TextChoices):
    ACCEPT = "accept", "Accept"
    REJECT = "reject", "Reject"
    FIX = "fix", "Fix"


class Review(models.Model):
    """One reviewer's verdict on one task in review (append-only)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reviews")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews_made"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    reason = models.CharField(max_length=20, choices=ReviewReason.choices)
    result = models.JSONField(null=True, blank=True)
    comment = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["project", "created_at"], name="review_project_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(verdict__in=Verdict.values), name="review_verdict_valid"
            ),
            models.CheckConstraint(
                condition=~Q(verdict="fix") | Q(result__isnull=False), name="review_fix_has_result"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.verdict} on task {self.task_id}"


class AnswerJudgement(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    CORRECTED = "corrected", "Corrected by the reviewer"
    REJECTED = "rejected", "Rejected"
    # A rejected answer sent back to its author, who corrected it: it counts again.
    REVISED = "revised", "Rejected, then corrected by its author"
    # A rejection reversed on appeal: the answer counts again toward its task (its slot was
    # still free, or it was the author's to correct) ...
    REINSTATED = "reinstated", "Rejected, then reinstated on appeal"
    # ... or others had finished the task meanwhile: the task's result stays, the answer is
    # reinstated for its author's record and pay only and stays out of the task's answers.
    REINSTATED_RECORD = "reinstated_record", "Reinstated on appeal, for your record and pay"


# The judgements after which an answer no longer counts toward its task's overlap, consensus
# and exports (every "counted answers" query excludes them).
NOT_COUNTED = (AnswerJudgement.REJECTED, AnswerJudgement.REINSTATED_RECORD)
# A rejection an appeal reversed: its reviewer was overruled on the task, and someone else (another
# reviewer or a manager) reviews the task from then on.
OVERRULED = (AnswerJudgement.REINSTATED, AnswerJudgement.REINSTATED_RECORD)


class AnnotationReview(models.Model):
    """What one review said about one contributor's answer: what "my work" shows them.

    A rejected answer no longer counts toward the task's overlap and is left out of consensus.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="judgements")
    annotation = models.ForeignKey(
        Annotation, on_delete=models.CASCADE, related_name="quality_reviews"
    )
    judgement = models.CharField(max_length=20, choices=AnswerJudgement.choices)
    score = models.FloatField(null=True, blank=True)  # against the accepted result
    # Rejected and sent back to its author to correct (the project's ``rejected_to`` is
    # ``author``); ``result`` keeps the answer as it was rejected, since the correction is stored
    # in the annotation itself (one answer per person and task).
    sent_back = models.BooleanField(default=False)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["annotation"],
                condition=Q(judgement="rejected"),
                name="annotation_review_rejected",
            )
        ]

    def __str__(self) -> str:
        return f"{self.judgement}: annotation {self.annotation_id}"


class ContributorStanding(models.Model):
    """A contributor's record on one project, moved with F() as answers and reviews come in.

    Gold counts live on the queue's :class:`ProjectContributor` (it scores gold on submit); this
    row adds what quality learns. Nothing here is recomputed over history on a page view.
    """

    contributor = models.OneToOneField(
        ProjectContributor, on_delete=models.CASCADE, related_name="standing"
    )
    submitted_count = models.PositiveIntegerField(default=0)
    active_seconds = models.PositiveBigIntegerField(default=0)
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    last_submitted_at = models.DateTimeField(null=True, blank=True)
    gold_error_count = models.PositiveIntegerField(default=0)
    peer_agreement_sum = models.FloatField(default=0.0)
    peer_agreement_count = models.PositiveIntegerField(default=0)
    reviewed_count = models.PositiveIntegerField(default=0)
    review_accepted_count = models.PositiveIntegerField(default=0)
    review_error_count = models.PositiveIntegerField(default=0)
    review_stage = models.CharField(max_length=20, default="new")
    paused_automatically = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Standing of {self.contributor}"

    @property
    def peer_agreement(self) -> float | None:
        if not self.peer_agreement_count:
            return None
        return self.peer_agreement_sum / self.peer_agreement_count

    @property
    def review_acceptance(self) -> float | None:
        if not self.reviewed_count:
            return None
        return self.review_accepted_count / self.reviewed_count


class JudgingRequest(models.Model):
    """A project has answers waiting for the quality step, and a background run is queued.

    At most one row per project: a submit inserts it (``ON CONFLICT DO NOTHING``) and queues a
    run only when the insert made a row, so a thousand submits queue one run, not a thousand. The
    run deletes the row before it reads the backlog, so an answer committed after that read makes
    a new row and a new run: nothing waits without a run coming.
    """

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    requested_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Judging requested for project {self.project_id}"
