"""The Check button's pages: ask for a proof, and show it (polled until it is done)."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from annotation.models import Annotation
from labelhub.permissions import can_review
from sandbox.permissions import proof_for, task_for_proof
from sandbox.selectors import content_key, proof_with_runs
from sandbox.services import proof_request

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
        and not can_review(user=request.user, project=answer.task.project)
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
