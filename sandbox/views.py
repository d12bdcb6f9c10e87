"""The Check button's pages: ask for a proof, and show it (polled until it is done)."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotation.models import Annotation, Task, TaskStatus
from annotation.sensitive import content_withheld
from labelhub.permissions import can_manage, can_review, project_for
from sandbox.events import audit_rubric_actions
from sandbox.models import AuditAttempt
from sandbox.permissions import proof_for, task_for_audit, task_for_proof
from sandbox.selectors import (
    audit_agreement,
    audited_tasks,
    audits_of_task,
    content_key,
    proof_with_runs,
)
from sandbox.services import audit_grade_rubric, audit_request, proof_request

PANEL = "sandbox/_proof.html"


@require_POST
@login_required
def check(request: HttpRequest, task_id: int) -> HttpResponse:
    """Queue a proof of the posted ``result``: the proof panel (which polls), or 422 with what
    is wrong with the answer."""
    task, assignment = task_for_proof(user=request.user, task_id=task_id)
    try:
        result = json.loads(request.POST.get("result", ""))
    except (ValueError, RecursionError):
        return _errors(request, [("result", ["The answer could not be read; try again."])])
    try:
        proof = proof_request(task=task, user=request.user, result=result, assignment=assignment)
    except ValidationError as error:
        items = sorted(error.message_dict.items()) if hasattr(error, "error_dict") else [
            ("result", error.messages)
        ]  # fmt: skip
        return _errors(request, items)
    proof = proof_with_runs(proof_id=proof.pk)
    return render(request, PANEL, {"proof": proof})


@require_GET
@login_required
def proof_panel(request: HttpRequest, proof_id: int) -> HttpResponse:
    proof = proof_for(user=request.user, proof=proof_with_runs(proof_id=proof_id))
    return render(request, PANEL, {"proof": proof})


@require_GET
@login_required
def answer_proof(request: HttpRequest, annotation_id: int) -> HttpResponse:
    """The newest proof of an answer's content, with its runs: for reviewers, and the answer's
    author (their my-answer page)."""
    answer = Annotation.objects.select_related("task__project").filter(pk=annotation_id).first()
    if answer is None or (
        answer.contributor_id != request.user.pk
        and (
            not can_review(user=request.user, project=answer.task.project)
            or content_withheld(user=request.user, task=answer.task)
        )
    ):
        raise Http404("No such answer.")
    latest = (
        answer.task.project.proofs.filter(content_key=content_key(answer.result))
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    proof = proof_with_runs(proof_id=latest) if latest else None
    return render(request, PANEL, {"proof": proof, "reviewing": True})


def _errors(request: HttpRequest, errors: list[tuple[str, list[str]]]) -> HttpResponse:
    return render(request, PANEL, {"proof": None, "errors": errors}, status=422)


AUDITS = "sandbox/task_audits.html"


@require_http_methods(["GET", "POST"])
@login_required
def task_audits(request: HttpRequest, task_id: int) -> HttpResponse:
    """Audit an accepted task: the task as an agent gets it, the auditor's own attempt and what
    they expect, then each attempt with the verifier's verdict and the task's agreement."""
    task = task_for_audit(user=request.user, task_id=task_id)
    accepted = getattr(task, "outcome", None) and task.outcome.accepted_result
    status, errors, values, rubric_errors = 200, {}, {}, {}
    if request.method == "POST" and "grade" in request.POST:
        audit = AuditAttempt.objects.filter(pk=request.POST["grade"], task=task).first()
        if audit is None:
            raise Http404("No such audit.")
        count = len(task.project.task_kind.rubric_claims(accepted or {}))
        met = set(request.POST.getlist("met"))
        try:
            audit_grade_rubric(
                audit=audit, grader=request.user, grades=[str(i) in met for i in range(count)]
            )
        except ValidationError as error:
            rubric_errors, status = {audit.pk: error.messages}, 422
        else:
            return redirect("sandbox:task-audits", task.pk)
    elif request.method == "POST":
        expected = request.POST.get("expected_pass")
        values = {
            "attempt": request.POST.get("attempt", ""),
            "expected_pass": {"pass": True, "fail": False}.get(expected or "", expected),
            "note": request.POST.get("note", ""),
        }
        try:
            audit_request(task=task, auditor=request.user, **values)
        except ValidationError as error:
            errors, status = error.message_dict, 422
        else:
            return redirect("sandbox:task-audits", task.pk)
    attempts = audits_of_task(task_id=task.pk)
    claims = task.project.task_kind.rubric_claims(accepted) if accepted else []
    for attempt in attempts:
        grades = attempt.rubric_grades or []
        attempt.claim_rows = [
            (i, claim, i < len(grades) and grades[i]) for i, claim in enumerate(claims)
        ]
        attempt.gradable = (
            bool(claims) and attempt.finished and attempt.auditor_id != request.user.pk
        )
        attempt.rubric_errors = rubric_errors.get(attempt.pk, [])
        attempt.judge_rows = [
            (claim, (attempt.judge_grades or [])[i] if attempt.judge_grades else None)
            for i, claim in enumerate(claims)
        ]
    actions = audit_rubric_actions.collect(request=request, task=task, attempts=attempts)
    for attempt in attempts:
        attempt.rubric_actions = [
            part[attempt.pk] for part in actions.values() if part and attempt.pk in part
        ]
    context = {
        "task": task,
        "project": task.project,
        "accepted": accepted,
        "claims": claims,
        "attempts": attempts,
        "waiting": any(not a.finished or a.judging for a in attempts),
        "agreement": audit_agreement(project_id=task.project_id, task_id=task.pk),
        "mine": any(a.auditor_id == request.user.pk for a in attempts),
        "errors": errors,
        "values": values,
    }
    if getattr(request, "htmx", False) and request.method == "GET":
        return render(request, f"{AUDITS}#audit-list", context)
    return render(request, AUDITS, context, status=status)


@require_GET
@login_required
def project_audits(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's audits for its manager and reviewers: the agreement, per audited task,
    and the accepted tasks nobody has audited yet."""
    project = project_for(user=request.user, project_id=project_id, action="review")
    kind = project.installed_kind
    if kind is None or not kind.takes_audits:
        raise Http404("No such project.")
    rows = audited_tasks(project_id=project.pk)
    audited = {row["task_id"] for row in rows}
    waiting = (
        Task.objects.filter(project=project, status=TaskStatus.ACCEPTED, is_gold=False)
        .exclude(pk__in=audited)
        .order_by("pk")
        .values_list("pk", flat=True)[:200]
    )
    context = {
        "project": project,
        "agreement": audit_agreement(project_id=project.pk),
        "rows": rows,
        "unaudited": list(waiting),
        "manages": can_manage(user=request.user, project=project),
    }
    return render(request, "sandbox/project_audits.html", context)


def audit_panel(*, request: HttpRequest, project) -> str:
    """The quality dashboard's audit part, for kinds that take audits."""
    kind = project.installed_kind
    if kind is None or not kind.takes_audits:
        return ""
    return render_to_string(
        "sandbox/_audit_panel.html",
        {"project": project, "agreement": audit_agreement(project_id=project.pk)},
        request=request,
    )
