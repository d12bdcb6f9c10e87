"""The managers' page of a project's model backends, and "ask the model" from the editor."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

import kinds
from annotation.models import Task
from backends import protocol
from backends.api import backend_dict
from backends.models import ModelBackend
from backends.services import KEEP, backend_health, backend_save, predict_task, run_create
from labelhub.forms import add_service_errors
from labelhub.permissions import project_for


class BackendForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.URLField(max_length=2000, label="URL", help_text="LabelHub POSTs to …/predict.")
    auth_header = forms.CharField(
        required=False,
        max_length=2000,
        label="Authorization header",
        help_text="E.g. “Bearer …”. Stored, never shown; leave empty to keep the stored one.",
        widget=forms.PasswordInput(render_value=False),
    )
    remove_auth = forms.BooleanField(required=False, label="Remove the stored header")
    timeout_seconds = forms.IntegerField(min_value=1, max_value=300, initial=30)
    batch_size = forms.IntegerField(min_value=1, max_value=500, initial=16)
    enabled = forms.BooleanField(required=False, initial=True)
    predict_on_import = forms.BooleanField(required=False, initial=True)
    counts_as_answer = forms.BooleanField(
        required=False, help_text="The model's prediction is one answer toward the overlap."
    )
    auto_accept_score = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        help_text="A prediction this sure is the task's only answer (sampled for review by the "
        "model's review rule). Empty: never.",
    )


FIELDS = [f for f in BackendForm.base_fields if f not in ("auth_header", "remove_auth")]


def _with_figures(view: dict, *, project) -> dict:
    """Each version's ``figures``: what its kind says a model saved (``TaskKind.model_figures``),
    as (figure, value) pairs for the page."""
    kind = kinds.find(project.kind)
    for version in view["versions"]:
        version["figures"] = [
            (figure, version["saved"].get(figure.key))
            for figure in (kind.model_figures if kind else ())
        ]
    return view


@require_http_methods(["GET", "POST"])
@login_required
def backend_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    editing = None
    if request.GET.get("edit"):
        editing = get_object_or_404(project.model_backends, pk=request.GET["edit"])
    initial = {f: getattr(editing, f) for f in FIELDS} if editing else None
    form = BackendForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        remove = data.pop("remove_auth")
        header = data.pop("auth_header")
        data["auth_header"] = "" if remove else (header or KEEP)
        try:
            backend_save(project=project, backend=editing, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Backend “{data['name']}” saved.")
            return redirect("backends:list", project_id=project.pk)
    context = {
        "project": project,
        "form": form,
        "editing": editing,
        "backends": [
            {"backend": b, "view": _with_figures(backend_dict(b), project=project), "runs": runs}
            for b in project.model_backends.all()
            for runs in [list(b.runs.all()[:5])]
        ],
    }
    return render(request, "backends/backends.html", context)


@require_POST
@login_required
def backend_action(request: HttpRequest, project_id: int, backend_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    backend = get_object_or_404(project.model_backends, pk=backend_id)
    action = request.POST.get("action")
    if action == "health":
        backend_health(backend=backend)
        level = messages.success if backend.health_ok else messages.error
        level(request, f"{backend.name}: {backend.health_message}")
    elif action == "predict-open" and backend.enabled:
        run = run_create(backend=backend, actor=request.user)
        messages.success(
            request, f"{backend.name} is pre-labelling every open task (run {run.pk})."
        )
    elif action == "delete":
        backend.delete()
        messages.success(request, f"Backend “{backend.name}” disconnected.")
    return redirect("backends:list", project_id=project.pk)


@require_POST
@login_required
def task_predict(request: HttpRequest, project_id: int, task_id: int) -> HttpResponse:
    """Ask one backend about one task, then back to the task's preview (starting from it)."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    task = get_object_or_404(Task, pk=task_id, project=project)
    backend: ModelBackend = get_object_or_404(
        project.model_backends, pk=request.POST.get("backend") or 0, enabled=True
    )
    try:
        prediction = predict_task(backend=backend, task=task)
    except protocol.BackendFailed as failure:
        messages.error(request, f"{backend.name}: {failure}")
    else:
        messages.success(
            request,
            f"{backend.name} {prediction.version.version} answered (score {prediction.score:.2f}).",
        )
    return redirect(reverse("annotation:task-preview", args=[project.pk, task.pk]))
