"""Appeals: a contributor asks the project's managers and reviewers to look again at a rejection
of one of their answers or at a pause of their work; the decision upholds or reverses it.

Invariants held by the database: an appeal is about exactly one thing (a rejection or a pause);
a rejection is appealed once, ever (after a decision it is final); a contributor has at most one
open appeal of a pause on a project; a decided appeal has its decider's reason and time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotation.models import ProjectContributor
from labelhub.models import Project
from quality.models import AnnotationReview

COMMENT_LIMIT = 2000  # the contributor's words; the form and the API say so
REASON_LIMIT = 2000  # the decider's words


class AppealSubject(models.TextChoices):
    REJECTION = "rejection", "A rejected answer"
    PAUSE = "pause", "A pause"


class AppealStatus(models.TextChoices):
    OPEN = "open", "Open"
    UPHELD = "upheld", "Upheld"
    REVERSED = "reversed", "Reversed"


class Decision(models.TextChoices):
    UPHOLD = "uphold", "Uphold"
    REVERSE = "reverse", "Reverse"


class Appeal(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="appeals")
    contributor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appeals_filed"
    )
    subject = models.CharField(max_length=10, choices=AppealSubject.choices)
    rejection = models.ForeignKey(
        AnnotationReview,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="appeals",
    )
    pause = models.ForeignKey(
        ProjectContributor,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="appeals",
    )
    # The pause's reason when it was appealed (the contributor row's changes once resumed).
    pause_reason = models.TextField(blank=True, default="")
    pause_automatic = models.BooleanField(default=False)
    comment = models.TextField()
    status = models.CharField(
        max_length=10, choices=AppealStatus.choices, default=AppealStatus.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appeals_decided",
    )
    decision_reason = models.TextField(blank=True, default="")
    filed_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "status", "filed_at"], name="appeal_project_status"),
            models.Index(fields=["contributor", "filed_at"], name="appeal_contributor_filed"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(subject="rejection", rejection__isnull=False, pause__isnull=True)
                    | Q(subject="pause", pause__isnull=False, rejection__isnull=True)
                ),
                name="appeal_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AppealStatus.values), name="appeal_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="open", decided_at__isnull=True)
                | (~Q(status="open") & Q(decided_at__isnull=False) & ~Q(decision_reason="")),
                name="appeal_decision_complete",
            ),
            models.CheckConstraint(condition=~Q(comment=""), name="appeal_comment_given"),
            # Once per rejection, open or decided: after the decision it is final.
            models.UniqueConstraint(
                fields=["rejection"],
                condition=Q(rejection__isnull=False),
                name="appeal_once_per_rejection",
            ),
            models.UniqueConstraint(
                fields=["pause"],
                condition=Q(pause__isnull=False, status="open"),
                name="appeal_one_open_per_pause",
            ),
        ]

    def __str__(self) -> str:
        return f"Appeal {self.pk} of a {self.subject} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == AppealStatus.OPEN
