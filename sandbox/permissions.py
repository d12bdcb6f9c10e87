"""Who may ask for a proof of a task's answer, and see it (pages and API alike)."""

from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404

from annotation.models import Assignment, AssignmentStatus, Task
from annotation.sensitive import content_withheld
from labelhub.permissions import can_review
from sandbox.models import Proof


def task_for_proof(*, user: AbstractBaseUser, task_id: int) -> tuple[Task, Assignment | None]:
    """The task and the caller's open lease on it, if the caller holds one or reviews the
    project (a fix is proven too); otherwise 404, whatever the reason."""
    if not user.is_authenticated:
        raise Http404("No such task.")
    task = Task.objects.select_related("project").filter(pk=task_id, is_gold=False).first()
    if task is None or not task.project.task_kind.needs_proof:
        raise Http404("No such task.")
    assignment = Assignment.objects.filter(
        task=task,
        contributor=user,
        status__in=(AssignmentStatus.ACTIVE, AssignmentStatus.EXPIRED),
    ).first()
    if assignment is None and (
        not can_review(user=user, project=task.project) or content_withheld(user=user, task=task)
    ):
        raise Http404("No such task.")
    return task, assignment


def proof_for(*, user: AbstractBaseUser, proof: Proof | None) -> Proof:
    """The proof if the caller asked for it or reviews its project; otherwise 404."""
    if (
        proof is None
        or not user.is_authenticated
        or (proof.requested_by_id != user.pk and not can_review(user=user, project=proof.project))
    ):
        raise Http404("No such proof.")
    return proof


def task_for_audit(*, user: AbstractBaseUser, task_id: int) -> Task:
    """A task of a kind that takes audits, if the caller reviews (or manages) its project and
    did not opt out of its content; otherwise 404, whatever the reason. Whether it may be
    audited now is the service's word."""
    if not user.is_authenticated:
        raise Http404("No such task.")
    task = (
        Task.objects.select_related("project__organization", "outcome")
        .filter(pk=task_id, is_gold=False)
        .first()
    )
    kind = task.project.installed_kind if task is not None else None
    if (
        kind is None
        or not kind.takes_audits
        or not can_review(user=user, project=task.project)
        or content_withheld(user=user, task=task)
    ):
        raise Http404("No such task.")
    return task
