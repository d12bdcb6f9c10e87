"""The eval set's pages for managers: runs and responses, judges and their calibration, the
leaderboard, and the files. Reached from the project menu ("Evals")."""

import orjson
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from evals import selectors, services
from evals.forms import EvalModelForm, JudgeForm, SampleForm, UploadForm
from evals.models import EvalItem, EvalRun, Judge, Response
from kinds.rubric_eval import formats
from kinds.rubric_eval.kind import RubricEvalKind
from labelhub.forms import add_service_errors
from labelhub.models import Project
from labelhub.permissions import can_manage, project_for
from labelhub.refusals import Refusal

ENDPOINT_FIELDS = [
    "base_url", "model", "concurrency", "requests_per_minute", "timeout_seconds", "max_retries",
    "max_tokens", "temperature", "price_input", "price_output",
]  # fmt: skip
BAR_WIDTH = 300
RECENT = 50  # responses listed on the eval set's page (the API and the files have them all)


def _eval_set(request: HttpRequest, project_id: int) -> Project:
    return project_for(user=request.user, project_id=project_id, action="manage")


def _values(form, *, fields: list[str]) -> dict:
    values = {f: form.cleaned_data[f] for f in fields if f in form.cleaned_data}
    if form.cleaned_data.get("api_key"):
        values["api_key"] = form.cleaned_data["api_key"]
    return values


def _refusal(request: HttpRequest, project: Project) -> HttpResponse | None:
    try:
        services.eval_set_check(project=project)
    except services.EvalRefused as refused:
        return render(
            request, "evals/not_an_eval_set.html", {"project": project, "reason": str(refused)}
        )
    return None


@require_http_methods(["GET", "POST"])
@login_required
def evals_home(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _eval_set(request, project_id)
    if (refused := _refusal(request, project)) is not None:
        return refused
    editing = None
    if request.GET.get("edit"):
        editing = get_object_or_404(project.eval_models, pk=request.GET["edit"])
    initial = (
        {f: getattr(editing, f) for f in ["name", "version", *ENDPOINT_FIELDS]} if editing else None
    )
    form = EvalModelForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.eval_model_save(
                    project=project,
                    eval_model=editing,
                    values=_values(form, fields=["name", "version", *ENDPOINT_FIELDS]),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Model “{form.cleaned_data['name']}” connected.")
                return redirect("evals:home", project_id=project.pk)
        status = 422
    routes = {
        route or "waiting": n
        for route, n in Response.objects.filter(project=project)
        .values_list("route")
        .order_by()
        .annotate(n=Count("pk"))
    }
    context = {
        "project": project,
        "form": form,
        "editing": editing,
        "items": EvalItem.objects.filter(project=project).count(),
        "responses": sum(routes.values()),
        "routes": routes,
        "models": project.eval_models.all(),
        **_runs_context(project),
        "recent": Response.objects.filter(project=project)
        .select_related("item")
        .only(
            "pk",
            "item__key",
            "model_name",
            "version",
            "prompt_tokens",
            "completion_tokens",
            "latency_ms",
            "cost",
            "route",
            "score",
        )
        .prefetch_related("people_tasks")
        .order_by("-pk")[:RECENT],
        "upload": UploadForm(),
        "sample": SampleForm(),
        "rubric_projects": Project.objects.filter(
            organization=project.organization, kind=RubricEvalKind.name, schema__mode="write"
        ),
        "exports": EXPORTS,
    }
    return render(request, "evals/home.html", context, status=status)


def _runs_context(project: Project) -> dict:
    runs = list(
        EvalRun.objects.filter(project=project)
        .select_related("judge_version__judge")
        .prefetch_related("eval_models")[:10]
    )
    return {"runs": runs, "runs_active": any(r.active for r in runs)}


@require_GET
@login_required
def runs(request: HttpRequest, project_id: int) -> HttpResponse:
    """The runs table alone (the page polls it while a run works)."""
    project = _eval_set(request, project_id)
    return render(request, "evals/_runs.html", {"project": project, **_runs_context(project)})


def _jsonl_lines(upload) -> list[bytes]:
    """Every line of the file, blank ones too, so that errors name the line as an editor counts
    it (the readers skip blank lines themselves)."""
    return upload.read().splitlines()


@require_POST
@login_required
def items_import(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _eval_set(request, project_id)
    form = UploadForm(request.POST, request.FILES)
    source = request.POST.get("source")
    try:
        if source:
            found = get_object_or_404(Project, pk=source, organization=project.organization)
            outcome = services.items_from_rubric_project(project=project, source=found)
        elif form.is_valid():
            prompts = formats.healthbench_read(_jsonl_lines(form.cleaned_data["file"]))
            outcome = services.items_import(project=project, prompts=prompts)
        else:
            raise ValidationError({"file": ["Choose a JSONL file."]})
    except ValidationError as error:
        return _errors_page(request, project, "The prompts were not imported", error)
    except services.EvalRefused as refused:
        messages.error(request, str(refused))
        return redirect("evals:home", project_id=project.pk)
    messages.success(request, f"{outcome.created} prompts added, {outcome.updated} changed.")
    return redirect("evals:home", project_id=project.pk)


@require_POST
@login_required
def responses_import(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _eval_set(request, project_id)
    form = UploadForm(request.POST, request.FILES)
    line_of: list[int] = []
    try:
        if not form.is_valid():
            raise ValidationError({"file": ["Choose a JSONL file."]})
        rows = []
        for number, line in enumerate(_jsonl_lines(form.cleaned_data["file"]), start=1):
            if not line.strip():
                continue
            try:
                rows.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                raise ValidationError({f"line {number}": ["Not a JSON object."]}) from None
            line_of.append(number)
        count = services.responses_import(project=project, rows=rows)
    except ValidationError as error:
        return _errors_page(
            request, project, "The responses were not imported", error, line_of=line_of
        )
    except services.EvalRefused as refused:
        messages.error(request, str(refused))
        return redirect("evals:home", project_id=project.pk)
    messages.success(request, f"{count} responses imported.")
    return redirect("evals:home", project_id=project.pk)


def _errors_page(
    request, project, title, error, *, line_of: list[int] | None = None
) -> HttpResponse:
    """The errors of an import; ``line_of`` maps a row's index to its line in the file."""
    lines = []
    for path, found in error.message_dict.items():
        head, _, rest = path.partition(".")
        where = (
            f"line {line_of[int(head)]}" + (f", {rest}" if rest else "")
            if line_of is not None and head.isdigit() and int(head) < len(line_of)
            else path
        )
        lines += [f"{where}: {message}" for message in found]
    return render(
        request,
        "evals/import_errors.html",
        {
            "project": project,
            "title": title,
            "errors": lines[:200],
            "more": max(0, len(lines) - 200),
        },
        status=422,
    )


@require_POST
@login_required
def run_start(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _eval_set(request, project_id)
    ids = request.POST.getlist("models")
    chosen = list(project.eval_models.filter(pk__in=[i for i in ids if i.isdecimal()]))
    try:
        run = services.run_create(project=project, actor=request.user, eval_models=chosen)
    except ValidationError as error:
        messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
    except services.EvalRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Run {run.pk} started: {', '.join(map(str, chosen))}.")
    return redirect("evals:home", project_id=project.pk)


@require_POST
@login_required
def run_cancel(request: HttpRequest, project_id: int, run_id: int) -> HttpResponse:
    project = _eval_set(request, project_id)
    run = get_object_or_404(project.eval_runs, pk=run_id)
    try:
        services.run_cancel(run=run)
    except services.EvalRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Run {run.pk} is cancelled; what it collected is kept.")
    return redirect("evals:home", project_id=project.pk)


@require_POST
@login_required
def route(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _eval_set(request, project_id)
    try:
        if request.POST.get("action") == "sample":
            form = SampleForm(request.POST)
            if form.is_valid():
                sent = services.responses_send_to_people(
                    project=project, count=form.cleaned_data["count"]
                )
                messages.success(request, f"{sent} responses sent to people.")
            else:
                messages.error(request, "Say how many responses (1 to 100000).")
        else:
            routed = services.responses_route(project=project)
            messages.success(
                request,
                f"{routed.people} responses to people, {routed.judge} to judges alone, "
                f"{routed.waiting} waiting for a judge.",
            )
    except services.EvalRefused as refused:
        messages.error(request, str(refused))
    return redirect("evals:home", project_id=project.pk)


@require_http_methods(["GET", "POST"])
@login_required
def judges(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _eval_set(request, project_id)
    if (refused := _refusal(request, project)) is not None:
        return refused
    editing = None
    if request.GET.get("edit"):
        editing = get_object_or_404(project.judges, pk=request.GET["edit"])
    initial = None
    if editing:
        initial = {
            f: getattr(editing, f)
            for f in ["name", "bar", "min_items", "human_share", *ENDPOINT_FIELDS]
        }
        initial["template"] = services.judge_current_version(judge=editing).template
    form = JudgeForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = _values(
                form,
                fields=["name", "bar", "min_items", "human_share", "template", *ENDPOINT_FIELDS],
            )
            try:
                services.judge_save(
                    project=project, judge=editing, values=values, actor=request.user
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Judge “{values['name']}” saved.")
                return redirect("evals:judges", project_id=project.pk)
        status = 422
    summaries = []
    for judge in project.judges.all():
        summary = selectors.judge_summary(judge=judge)
        calibration = summary["calibration"]
        if calibration:
            for row in [calibration["overall"], *calibration["per_tag"], *calibration["per_theme"]]:
                row["bar_drawing"] = _drawing(row["macro_f1"], mark=calibration["bar"])
        summaries.append(summary)
    context = {
        "project": project,
        "form": form,
        "editing": editing,
        "judges": summaries,
        "runs": EvalRun.objects.filter(project=project, judge_version__isnull=False)[:10],
    }
    return render(request, "evals/judges.html", context, status=status)


@require_POST
@login_required
def judge_action(request: HttpRequest, project_id: int, judge_id: int) -> HttpResponse:
    project = _eval_set(request, project_id)
    judge: Judge = get_object_or_404(project.judges, pk=judge_id)
    action = request.POST.get("action")
    try:
        if action == "run":
            run = services.judge_run_create(judge=judge, actor=request.user)
            messages.success(request, f"{judge.name} is grading (run {run.pk}).")
        elif action == "calibrate":
            calibration = services.judge_calibrate(judge=judge)
            if calibration is None:
                messages.error(request, "No response is graded by both people and this judge yet.")
            else:
                services.responses_route(project=project)
                messages.success(request, f"Calibrated on {calibration.items} items.")
        elif action == "stop":
            services.judge_stop(judge=judge, reason=f"Stopped by {request.user.get_username()}.")
            messages.success(request, f"{judge.name} is stopped.")
        elif action == "resume":
            services.judge_resume(judge=judge)
            messages.success(request, f"{judge.name} is active again.")
        elif action == "delete":
            services.judge_delete(judge=judge)
            messages.success(
                request,
                f"Judge “{judge.name}” removed; what it graded alone goes back to people.",
            )
    except services.EvalRefused as refused:
        messages.error(request, str(refused))
    return redirect("evals:judges", project_id=project.pk)


def _drawing(interval: dict | None, *, mark: float | None = None) -> dict | None:
    """Pixel positions of an interval on a 0–1 axis ``BAR_WIDTH`` wide (drawn as SVG)."""
    if not interval or interval.get("value") is None or interval["value"] != interval["value"]:
        return None

    def x(v: float) -> float:
        return round(max(0.0, min(1.0, v)) * BAR_WIDTH, 1)

    return {
        "low": x(interval["low"]),
        "high": x(interval["high"]),
        "value": x(interval["value"]),
        "width": round(x(interval["high"]) - x(interval["low"]), 1),
        "mark": None if mark is None else x(mark),
        "size": BAR_WIDTH,
        # What a screen reader says: the numbers, not the pixels.
        "label": f"{interval['value']:.3f}, 95% interval {interval['low']:.3f} to "
        f"{interval['high']:.3f}" + ("" if mark is None else f"; the bar is {mark:.2f}"),
    }


@require_GET
@login_required
def leaderboard(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _eval_set(request, project_id)
    if (refused := _refusal(request, project)) is not None:
        return refused
    board = selectors.leaderboard(project=project)
    for entry in board["models"]:
        entry["drawing"] = _drawing(entry["score"])
        entry["tag_cells"] = [entry["tags"].get(tag) for tag in board["tags"]]
        entry["theme_cells"] = [entry["themes"].get(theme) for theme in board["themes"]]
    return render(
        request, "evals/leaderboard.html", {"project": project, "board": board, "exports": EXPORTS}
    )


EXPORTS = {
    "healthbench": ("Prompts and rubrics (HealthBench JSONL)", formats.JSONL, "jsonl"),
    "graded": ("Graded responses with every verdict (JSONL)", formats.JSONL, "jsonl"),
    "scores": ("Scores (CSV)", "text/csv; charset=utf-8", "csv"),
    "leaderboard": ("Leaderboard (JSON)", "application/json", "json"),
    "sft": ("Best response per prompt, for SFT (JSONL)", formats.JSONL, "jsonl"),
    "preferences": ("Response pairs with their score gap, for DPO (JSONL)", formats.JSONL, "jsonl"),
}


def export_chunks(*, project: Project, name: str):
    if name == "healthbench":
        return formats.healthbench_jsonl(selectors.eval_prompts(project=project))
    if name == "graded":
        return formats.graded_jsonl(selectors.graded_records(project=project))
    if name == "scores":
        return formats.scores_csv(selectors.graded_records(project=project))
    if name == "leaderboard":
        return formats.leaderboard_json(selectors.leaderboard(project=project))
    if name == "sft":
        return formats.sft_jsonl(selectors.graded_records(project=project))
    return formats.preference_jsonl(selectors.graded_records(project=project))


def export_response(*, project: Project, name: str) -> StreamingHttpResponse:
    _label, content_type, extension = EXPORTS[name]
    response = StreamingHttpResponse(
        export_chunks(project=project, name=name), content_type=content_type
    )
    response["Content-Disposition"] = f'attachment; filename="eval-{project.pk}-{name}.{extension}"'
    return response


@require_GET
@login_required
def export(request: HttpRequest, project_id: int, name: str) -> HttpResponse:
    project = _eval_set(request, project_id)
    if name not in EXPORTS:
        return HttpResponse("Unknown export.", status=404)
    return export_response(project=project, name=name)


@require_POST
@login_required
def audit_judge(request: HttpRequest, audit_id: int) -> HttpResponse:
    """Have a judge model grade an audit attempt's rubric claims (the project's managers), then
    back to the task's audits, which poll until its grades are in."""
    from evals.audits import audit_judge_request
    from sandbox.models import AuditAttempt
    from sandbox.permissions import task_for_audit

    audit = AuditAttempt.objects.select_related("project").filter(pk=audit_id).first()
    if audit is None:
        raise Http404("No such audit.")
    task = task_for_audit(user=request.user, task_id=audit.task_id)
    if not can_manage(user=request.user, project=task.project):
        raise Http404("No such audit.")
    judge_id = request.POST.get("judge", "")
    try:
        audit_judge_request(
            audit=audit, judge_id=int(judge_id) if judge_id.isdigit() else None, actor=request.user
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except Refusal as refusal:
        messages.error(request, refusal.message)
    return redirect("sandbox:task-audits", task.pk)
