"""Reads of the sandbox app."""

import hashlib
import json

from sandbox.models import Proof


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
