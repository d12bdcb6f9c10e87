"""Set-ups of pay tests: a ranking project with rates, worked through the real queue."""

from datetime import timedelta
from decimal import Decimal

from annotation import queue
from annotation.models import Assignment
from pay.models import PayBasis, ProjectPay
from tests.quality.helpers import make_quality_project

ALWAYS_REVIEW = {"review_policy": "share", "review_share": 1.0}


def paid_project(
    *,
    contributors: int = 3,
    quality: dict | None = None,
    basis: str = PayBasis.TASK,
    accepted: str = "0.50",
    rejected: str = "0.10",
    hourly: str = "0",
    bonus: str = "0",
    bonus_accuracy: float = 0.9,
):
    project, people, reviewer, manager = make_quality_project(
        contributors=contributors, quality=quality if quality is not None else ALWAYS_REVIEW
    )
    ProjectPay.objects.create(
        project=project,
        basis=basis,
        accepted_rate=Decimal(accepted),
        rejected_rate=Decimal(rejected),
        hourly_rate=Decimal(hourly),
        bonus_per_task=Decimal(bonus),
        bonus_accuracy=bonus_accuracy,
    )
    return project, people, reviewer, manager


def answer(capture, *, project, user, preference="a", seconds=60, leased_for=None):
    """Claim and answer the user's next task; ``leased_for`` backdates the lease's start, as if
    the person had held the task that many seconds before submitting."""
    with capture(execute=True):
        assignment = queue.assignment_claim_next(project=project, contributor=user)
        assert assignment is not None, "no task for this contributor"
        if leased_for is not None:
            Assignment.objects.filter(pk=assignment.pk).update(
                created_at=assignment.created_at - timedelta(seconds=leased_for)
            )
        submission = queue.annotation_submit(
            assignment_id=assignment.pk,
            contributor=user,
            result={"preference": preference, "strength": 1},
            active_seconds=seconds,
        )
    return submission.annotation
