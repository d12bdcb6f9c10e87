"""Reads of the sandbox app."""

import hashlib
import json
from dataclasses import dataclass

from django.db.models import Count, Q

from sandbox.models import AuditAttempt, Proof, ProofStatus


def content_key(result: dict) -> str:
    """What a proof is of: the SHA-256 of the cleaned answer's canonical JSON."""
    canonical = json.dumps(result, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def latest_proof_of(*, project_id: int, key: str) -> Proof | None:
    """The newest proof of exactly this content on the project (any task, any author)."""
    return (
        Proof.objects.filter(project_id=project_id, content_key=key)
        .only("pk", "status", "holds", "reasons")
        .order_by("-pk")
        .first()
    )


def proof_with_runs(*, proof_id: int) -> Proof | None:
    return (
        Proof.objects.select_related("project", "task")
        .prefetch_related("runs")
        .filter(pk=proof_id)
        .first()
    )


def proof_summary(proof: Proof) -> dict:
    """A proof in the API's shape."""
    return {
        "id": proof.pk,
        "task": proof.task_id,
        "assignment": proof.assignment_id,
        "content_key": proof.content_key,
        "status": proof.status,
        "holds": proof.holds,
        "reasons": proof.reasons,
        "seconds": proof.seconds,
        "created_at": proof.created_at.isoformat() if proof.created_at else None,
        "finished_at": proof.finished_at.isoformat() if proof.finished_at else None,
        "runs": [
            {
                "run": run.run,
                "reward": run.reward,
                "passed": run.passed,
                "status": run.status,
                "reason": run.reason,
                "seconds": run.seconds,
                "output": run.output,
                "details": run.details,
            }
            for run in proof.runs.all()
        ],
    }


def proof_evidence(*, project_id: int, item) -> dict:
    """For exports: the holding proof of an item's result (its runs without their output)."""
    if not item.result:
        return {}
    proof = (
        Proof.objects.filter(
            project_id=project_id, content_key=content_key(item.result), holds=True
        )
        .prefetch_related("runs")
        .order_by("-pk")
        .first()
    )
    if proof is None:
        return {"proof": None}
    summary = proof_summary(proof)
    for run in summary["runs"]:
        run.pop("output")
        run["details"] = {"checks": run["details"].get("checks", [])}
    return {"proof": summary}


@dataclass(frozen=True)
class AuditAgreement:
    """How audits of a project's (or one task's) accepted tasks came out: of the attempts the
    verifier judged (``judged``), how many it judged as their auditor expected (``agreeing``);
    ``share`` is their ratio, ``None`` before any. ``waiting`` are still queued or running,
    ``unjudged`` were stopped or could not run (they count neither way)."""

    judged: int
    agreeing: int
    waiting: int
    unjudged: int
    tasks: int

    @property
    def share(self) -> float | None:
        return self.agreeing / self.judged if self.judged else None

    def as_dict(self) -> dict:
        return {
            "agreement": None if self.share is None else round(self.share, 4),
            "judged": self.judged,
            "agreeing": self.agreeing,
            "waiting": self.waiting,
            "unjudged": self.unjudged,
            "tasks": self.tasks,
        }


def audit_agreement(*, project_id: int, task_id: int | None = None) -> AuditAgreement:
    """The audit agreement of a project, or of one of its tasks (one query)."""
    attempts = AuditAttempt.objects.filter(project_id=project_id)
    if task_id is not None:
        attempts = attempts.filter(task_id=task_id)
    counts = attempts.aggregate(
        judged=Count("pk", filter=Q(agrees__isnull=False)),
        agreeing=Count("pk", filter=Q(agrees=True)),
        waiting=Count("pk", filter=Q(status__in=(ProofStatus.QUEUED, ProofStatus.RUNNING))),
        unjudged=Count(
            "pk",
            filter=Q(agrees__isnull=True, status__in=(ProofStatus.DONE, ProofStatus.ERROR)),
        ),
        tasks=Count("task", distinct=True),
    )
    return AuditAgreement(**counts)


def audits_of_task(*, task_id: int) -> list[AuditAttempt]:
    return list(
        AuditAttempt.objects.filter(task_id=task_id).select_related("auditor").order_by("pk")
    )


def audited_tasks(*, project_id: int) -> list[dict]:
    """Per audited task of the project: its id, attempts judged and agreeing (one query)."""
    return list(
        AuditAttempt.objects.filter(project_id=project_id)
        .values("task_id")
        .annotate(
            attempts=Count("pk"),
            judged=Count("pk", filter=Q(agrees__isnull=False)),
            agreeing=Count("pk", filter=Q(agrees=True)),
        )
        .order_by("task_id")
    )
