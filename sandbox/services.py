"""Writes of the sandbox app: ask for a proof, run it, and the gate that needs one.

A Check (``proof_request``) stores a queued :class:`Proof` and, once that commits, puts a job on
the ``sandbox`` queue (:mod:`sandbox.tasks`): the proof runs in a worker of that queue, never
in the web request and never in a judging worker, so a slow verifier delays nothing else.
The worker (``proof_run``) calls the kind's ``prove`` with :class:`BwrapSandbox`, which runs
each script with :func:`sandbox.runner.run`: the author's code only ever runs in ``bwrap``.
"""

import time
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotation.models import Assignment, Task, TaskStatus
from kinds import TaskKind
from labelhub.background import enqueue_with_rows
from labelhub.refusals import Refusal
from sandbox import runner
from sandbox.models import AuditAttempt, Proof, ProofRun, ProofStatus
from sandbox.selectors import content_key, latest_proof_of

# Proofs one person may have waiting at once: a Check costs up to five sandboxed runs.
MAX_WAITING_PER_PERSON = 3


class BwrapSandbox:
    """What a kind's ``prove`` runs its scripts with: ``app`` (the agent's tree, writable) at
    ``/app``, ``tests`` read-only at ``/tests``, ``logs`` writable at ``/logs/verifier``."""

    def __init__(
        self,
        *,
        memory_mb: int = 512,
        processes: int = 64,
        output_bytes: int = 64_000,
        disk_mb: int = runner.Limits.disk_mb,
    ):
        self.memory_mb, self.processes, self.output_bytes = memory_mb, processes, output_bytes
        self.disk_mb = disk_mb

    def run(
        self,
        *,
        script: str,
        app: Path,
        tests: Path | None,
        logs: Path | None,
        seconds: float,
    ) -> runner.Outcome:
        uid = runner.run_uid()
        binds = [runner.Bind(app, "/app", writable=True)]
        runner.give_to(app, uid)
        if tests is not None:
            binds.append(runner.Bind(tests, "/tests"))
        if logs is not None:
            runner.give_to(logs, uid)
            binds.append(runner.Bind(logs, "/logs/verifier", writable=True))
        limits = runner.Limits(
            seconds=seconds,
            memory_mb=self.memory_mb,
            processes=self.processes,
            output_bytes=self.output_bytes,
            disk_mb=self.disk_mb,
        )
        return runner.run(script=script, binds=binds, limits=limits, uid=uid)


def proof_request(
    *,
    task: Task,
    user: AbstractBaseUser,
    result: dict,
    assignment: Assignment | None = None,
) -> Proof:
    """Queue a Check of ``result`` for ``task``. Raises ``ValidationError`` (the kind's, with
    field paths) for an answer that cannot be proven as it is, or while the person already has
    ``MAX_WAITING_PER_PERSON`` proofs waiting; changes nothing then. A Check of content already
    queued or running returns that proof."""
    project = task.project
    kind = project.task_kind
    if not kind.needs_proof:
        raise ValueError(f"A {kind.label} answer has nothing to prove.")
    cleaned = kind.clean_result(result, schema=project.schema, data=task.data)
    key = content_key(cleaned)
    from sandbox.tasks import run_proof  # the task module imports this one

    with transaction.atomic():
        busy = Proof.objects.filter(
            requested_by=user, status__in=(ProofStatus.QUEUED, ProofStatus.RUNNING)
        ).count()
        if busy >= MAX_WAITING_PER_PERSON:
            raise ValidationError(
                {
                    "proof": [
                        f"{busy} of your proofs are still waiting for the sandbox: wait for "
                        "their results before you check again."
                    ]
                }
            )
        waiting = (
            Proof.objects.filter(
                project=project,
                content_key=key,
                task=task,
                status__in=(ProofStatus.QUEUED, ProofStatus.RUNNING),
            )
            .order_by("-pk")
            .first()
        )
        if waiting is not None:
            return waiting
        proof = Proof.objects.create(
            project=project,
            task=task,
            assignment=assignment,
            requested_by=user,
            content_key=key,
            result=cleaned,
        )
        enqueue_with_rows(run_proof, proof.pk)
    return proof


def proof_run(*, proof_id: int) -> Proof | None:
    """Run a queued proof (the sandbox worker's job); a proof already taken is left alone."""
    now = timezone.now()
    taken = Proof.objects.filter(pk=proof_id, status=ProofStatus.QUEUED).update(
        status=ProofStatus.RUNNING, started_at=now
    )
    if not taken:
        return None
    proof = Proof.objects.select_related("project", "task").get(pk=proof_id)
    kind: TaskKind = proof.project.task_kind
    limits = proof.project.schema.get("limits", {})
    started = time.monotonic()
    try:
        report = kind.prove(
            proof.result,
            schema=proof.project.schema,
            data=proof.task.data,
            sandbox=BwrapSandbox(
                memory_mb=int(limits.get("memory_mb", 512)),
                disk_mb=int(limits.get("disk_mb", runner.Limits.disk_mb)),
            ),
        )
    except runner.SandboxUnavailable as error:
        return _proof_error(proof, str(error))
    except Exception as error:  # the proof failed to run: say so on the proof, keep the worker
        return _proof_error(proof, f"The proof could not run: {type(error).__name__}: {error}")
    with transaction.atomic():
        ProofRun.objects.bulk_create(
            ProofRun(
                proof=proof,
                run=run.run,
                reward=run.reward,
                passed=run.passed,
                status=run.status,
                reason=run.reason,
                output=run.output,
                seconds=run.seconds,
                details=run.details,
            )
            for run in report.runs
        )
        proof.status = ProofStatus.DONE
        proof.holds = report.holds
        proof.reasons = report.reasons
        proof.seconds = round(time.monotonic() - started, 3)
        proof.finished_at = timezone.now()
        proof.save(update_fields=["status", "holds", "reasons", "seconds", "finished_at"])
    return proof


def _proof_error(proof: Proof, message: str) -> Proof:
    proof.status, proof.holds, proof.reasons = ProofStatus.ERROR, False, [message]
    proof.finished_at = timezone.now()
    proof.save(update_fields=["status", "holds", "reasons", "finished_at"])
    return proof


def proof_refusal(*, project_id: int, kind: TaskKind, result: dict) -> str:
    """The gate (a listener of ``annotation.events.result_gate``): why this content cannot be
    stored yet, or "". One query, and only for kinds that need proof."""
    if not kind.needs_proof:
        return ""
    proof = latest_proof_of(project_id=project_id, key=content_key(result))
    if proof is None:
        return "Check it first: press Check so that LabelHub proves this verifier in the sandbox."
    if not proof.finished:
        return "The proof of this version is still running: wait for its result, then submit."
    if not proof.holds:
        why = " ".join(proof.reasons) or "The proof does not hold."
        return f"The proof of this version does not hold: {why} Fix it and press Check again."
    return ""


# --- audits: someone else tries an accepted task, and its verifier judges the attempt ---------

MAX_ATTEMPT = 200_000


def audit_request(
    *, task: Task, auditor: AbstractBaseUser, attempt: object, expected_pass: object, note=""
) -> AuditAttempt:
    """Queue an audit attempt of an accepted task by ``auditor`` (a reviewer or manager, not an
    author of the task). Raises ``ValidationError`` keyed by field; nothing is stored then."""
    errors: dict[str, list[str]] = {}
    if not isinstance(attempt, str) or not attempt.strip() or len(attempt) > MAX_ATTEMPT:
        errors["attempt"] = [
            "Write your attempt: a bash script that turns the starting files into your answer."
        ]
    if not isinstance(expected_pass, bool):
        errors["expected_pass"] = ["Say whether you expect the verifier to pass your attempt."]
    if not isinstance(note, str) or len(note) > 500:
        errors["note"] = ["A note of at most 500 characters."]
    outcome = getattr(task, "outcome", None)
    if task.status != TaskStatus.ACCEPTED or outcome is None or not outcome.accepted_result:
        errors["task"] = ["Only an accepted task can be audited."]
    elif task.annotations.filter(contributor=auditor).exists():
        errors["task"] = ["You wrote this task: an audit is someone else's attempt."]
    if errors:
        raise ValidationError(errors)
    from sandbox.tasks import run_audit  # the task module imports this one

    with transaction.atomic():
        if AuditAttempt.objects.filter(task=task, auditor=auditor).exists():
            raise ValidationError({"task": ["You have audited this task already."]})
        audit = AuditAttempt.objects.create(
            project=task.project,
            task=task,
            auditor=auditor,
            attempt=attempt,
            expected_pass=expected_pass,
            note=note,
        )
        enqueue_with_rows(run_audit, audit.pk)
    return audit


def audit_run(*, audit_id: int) -> AuditAttempt | None:
    """Run a queued audit attempt (the sandbox worker's job) against the task's accepted
    content; an attempt already taken is left alone."""
    taken = AuditAttempt.objects.filter(pk=audit_id, status=ProofStatus.QUEUED).update(
        status=ProofStatus.RUNNING
    )
    if not taken:
        return None
    audit = AuditAttempt.objects.select_related("project", "task__outcome").get(pk=audit_id)
    project = audit.project
    limits = project.schema.get("limits", {})
    started = time.monotonic()
    try:
        report = project.task_kind.audit(
            audit.task.outcome.accepted_result,
            schema=project.schema,
            data=audit.task.data,
            attempt=audit.attempt,
            sandbox=BwrapSandbox(
                memory_mb=int(limits.get("memory_mb", 512)),
                disk_mb=int(limits.get("disk_mb", runner.Limits.disk_mb)),
            ),
        )
    except Exception as error:  # say so on the attempt, keep the worker
        audit.status, audit.reason = ProofStatus.ERROR, f"The attempt could not run: {error}"
        audit.finished_at = timezone.now()
        audit.save(update_fields=["status", "reason", "finished_at"])
        return audit
    judged = report.status != "stopped"
    audit.status = ProofStatus.DONE
    audit.reward = report.reward
    audit.verifier_passed = report.passed if judged else None
    audit.agrees = (report.passed == audit.expected_pass) if judged else None
    audit.reason = report.reason
    audit.output = report.output
    audit.seconds = round(time.monotonic() - started, 3)
    audit.finished_at = timezone.now()
    audit.changes = list((report.details or {}).get("changes") or [])
    audit.save(
        update_fields=[
            "status", "reward", "verifier_passed", "agrees", "reason", "output", "seconds",
            "finished_at", "changes",
        ]
    )  # fmt: skip
    return audit


def audit_grade_rubric(*, audit: AuditAttempt, grader: AbstractBaseUser, grades: object) -> float:
    """Grade the task's rubric claims on a finished audit attempt (someone other than its
    auditor; a later grading replaces an earlier one). Returns the reward; raises
    ``ValidationError`` keyed ``grades`` / ``grades.<i>``."""
    if audit.auditor_id == grader.pk:
        raise ValidationError({"grades": ["Someone else grades your attempt's rubric."]})
    if not audit.finished:
        raise ValidationError({"grades": ["Wait until the attempt has run."]})
    task = Task.objects.select_related("outcome", "project").get(pk=audit.task_id)
    reward = task.project.task_kind.grade_claims(task.outcome.accepted_result, grades=grades)
    with transaction.atomic():
        AuditAttempt.objects.filter(pk=audit.pk).update(
            rubric_grades=grades, rubric_reward=reward, rubric_graded_by=grader
        )
    audit.rubric_grades, audit.rubric_reward, audit.rubric_graded_by = grades, reward, grader
    return reward


def audit_judge_queue(
    *, audit: AuditAttempt, judged_by: AbstractBaseUser, judge_name: str
) -> AuditAttempt:
    """Mark a finished attempt as waiting for a judge model's grading of its rubric claims (the
    app that calls judges queues the call). A person's grades stay as they are: the judge's go
    beside them. Raises ``ValidationError`` keyed ``audit``, or a :class:`Refusal` (409) while
    a judge is already at work on it."""
    if not audit.finished:
        raise ValidationError({"audit": ["Wait until the attempt has run."]})
    task = Task.objects.select_related("outcome", "project").get(pk=audit.task_id)
    outcome = getattr(task, "outcome", None)
    if not task.project.task_kind.rubric_claims((outcome and outcome.accepted_result) or {}):
        raise ValidationError({"audit": ["This task has no rubric claims to grade."]})
    with transaction.atomic():
        taken = (
            AuditAttempt.objects.filter(pk=audit.pk)
            .exclude(judge_status__in=(ProofStatus.QUEUED, ProofStatus.RUNNING))
            .update(
                judge_status=ProofStatus.QUEUED,
                judge_error="",
                rubric_judge=judge_name,
                rubric_judged_by=judged_by,
            )
        )
    if not taken:
        raise Refusal("A judge is already grading this attempt: wait for its grades.")
    audit.refresh_from_db()
    return audit


def audit_judge_claims(*, audit_id: int) -> tuple[AuditAttempt, dict, list[dict]] | None:
    """Take a queued judge grading (queued → running): the attempt, the task's accepted answer
    and its claims; ``None`` when it is not waiting (taken already)."""
    taken = AuditAttempt.objects.filter(pk=audit_id, judge_status=ProofStatus.QUEUED).update(
        judge_status=ProofStatus.RUNNING
    )
    if not taken:
        return None
    audit = AuditAttempt.objects.select_related("project", "task__outcome").get(pk=audit_id)
    accepted = audit.task.outcome.accepted_result
    return audit, accepted, audit.project.task_kind.rubric_claims(accepted)


def audit_judge_store(*, audit_id: int, grades: list[bool] | None, error: str = "") -> None:
    """Store a judge's grades of the claims (met / not met, in order) and the reward they come
    to, by the same rule as a person's grading; or why the judge could not grade."""
    audit = AuditAttempt.objects.select_related("task__outcome", "project").get(pk=audit_id)
    if grades is None:
        AuditAttempt.objects.filter(pk=audit_id).update(
            judge_status=ProofStatus.ERROR, judge_error=error[:2000]
        )
        return
    kind = audit.project.task_kind
    reward = kind.grade_claims(audit.task.outcome.accepted_result, grades=grades)
    AuditAttempt.objects.filter(pk=audit_id).update(
        judge_status=ProofStatus.DONE, judge_error="", judge_grades=grades, judge_reward=reward
    )
