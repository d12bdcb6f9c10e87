"""Judge models grade the rubric claims of RL-environment audit attempts.

An audit attempt (``sandbox.models.AuditAttempt``) is someone's own try at an accepted
environment task; its task's rubric claims are statements with points. A manager may have one
of the organization's judges (the judges of its eval sets) grade them: the claims become the
rubric (``c1``, ``c2``… in order, the claim as criterion, its points), the task's instruction
the conversation, and the attempt's script, output and file diff the response. The call is
made in the background (``evals.tasks.audit_judge_process``), through the judge's endpoint and
limits like any judge call, and its verdicts are stored by sandbox beside a person's grades,
never over them, with the reward computed by the kind's ``grade_claims`` (the rule a person's
grading uses).

Sandbox sits below evals, so it never imports this module: the audit page asks for the buttons
through ``sandbox.events.audit_rubric_actions`` and this app answers.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string

from evals import calls, judging
from evals.models import Judge, JudgeStatus, JudgeVersion
from evals.services import judge_current_version
from labelhub.background import enqueue_with_rows
from labelhub.permissions import can_manage
from sandbox.models import AuditAttempt
from sandbox.services import audit_judge_claims, audit_judge_queue, audit_judge_store

MAX_PART = 20_000  # characters of the script, of the output and of the diff the judge reads


def judges_for_audits(*, organization_id: int) -> list[Judge]:
    """The organization's active judges (of all its eval sets), by name."""
    return list(
        Judge.objects.filter(
            project__organization_id=organization_id, status=JudgeStatus.ACTIVE
        ).order_by("name", "pk")
    )


def audit_judge_request(*, audit: AuditAttempt, judge_id: object, actor) -> AuditAttempt:
    """Queue judge ``judge_id``'s grading of the attempt's rubric claims (the caller manages
    the attempt's project). Raises ``ValidationError`` keyed ``judge`` / ``audit``."""
    from evals.tasks import audit_judge_process  # the tasks module imports this one

    judge = None
    if isinstance(judge_id, int) and not isinstance(judge_id, bool):
        judge = Judge.objects.filter(
            pk=judge_id, project__organization_id=audit.project.organization_id
        ).first()
    if judge is None:
        raise ValidationError(
            {"judge": ["Choose a judge model of this organization (the id of one of its judges)."]}
        )
    if judge.status != JudgeStatus.ACTIVE:
        raise ValidationError(
            {"judge": [f"The judge {judge.name} is stopped: {judge.stop_reason or 'resume it'}."]}
        )
    version = judge_current_version(judge=judge)
    with transaction.atomic():
        audit = audit_judge_queue(audit=audit, judged_by=version.user, judge_name=str(version))
        enqueue_with_rows(audit_judge_process, audit.pk, version.pk)
    return audit


def _clip(text: str) -> str:
    return text if len(text) <= MAX_PART else text[:MAX_PART] + "\n[…cut]"


def audit_response_text(audit: AuditAttempt) -> str:
    """What the judge grades: the attempt's script, what it printed and the files it changed."""
    diff = "\n".join(c.get("diff") or f"{c['file']}: {c['change']}" for c in audit.changes or [])
    return (
        f"The attempt (a bash script run in /app):\n{_clip(audit.attempt)}\n\n"
        f"Its output and the verifier's:\n{_clip(audit.output) or '(none)'}\n\n"
        f"The files it changed (unified diff from the starting files):\n{_clip(diff) or '(none)'}"
    )


def audit_rubric(claims: list[dict]) -> list[dict]:
    return [
        {"id": f"c{i}", "criterion": claim["claim"], "points": claim["points"]}
        for i, claim in enumerate(claims, start=1)
    ]


def audit_judge_execute(*, audit_id: int, version_id: int, send=calls.chat_complete) -> None:
    """Call the judge (outside any transaction) and store its grades, or why it could not."""
    taken = audit_judge_claims(audit_id=audit_id)
    if taken is None:
        return
    audit, accepted, claims = taken
    version = JudgeVersion.objects.select_related("judge").get(pk=version_id)
    rubric = audit_rubric(claims)
    response = audit_response_text(audit)
    prompt = [{"role": "user", "content": str(accepted.get("instruction") or "")}]
    call = calls.Call(
        key=audit.pk,
        endpoint=version.judge,
        messages=[
            {
                "role": "user",
                "content": judging.render(
                    version.template, prompt=prompt, rubric=rubric, response=response
                ),
            }
        ],
    )
    try:
        (outcome,) = list(calls.call_all([call], send=send))
        if outcome.completion is None:
            raise judging.GradeUnreadable(f"The judge could not be reached: {outcome.error}")
        verdicts = judging.parse(outcome.completion.text, rubric=rubric, response=response)
    except Exception as error:  # say why on the attempt, keep the worker
        audit_judge_store(audit_id=audit.pk, grades=None, error=str(error))
        return
    audit_judge_store(audit_id=audit.pk, grades=[verdicts[c["id"]]["met"] for c in rubric])


def audit_judge_buttons(
    *, request: HttpRequest, task, attempts: list[AuditAttempt]
) -> dict[int, str]:
    """The audit page's "Grade with judge …" buttons, for the project's managers, under each
    finished attempt (listener of ``sandbox.events.audit_rubric_actions``)."""
    if not attempts or not can_manage(user=request.user, project=task.project):
        return {}
    outcome = getattr(task, "outcome", None)
    accepted = (outcome and outcome.accepted_result) or {}
    if not task.project.task_kind.rubric_claims(accepted):
        return {}
    judges = judges_for_audits(organization_id=task.project.organization_id)
    return {
        attempt.pk: render_to_string(
            "evals/_audit_judge.html",
            {"attempt": attempt, "judges": judges, "task": task},
            request=request,
        )
        for attempt in attempts
        if attempt.finished and not attempt.judging
    }
