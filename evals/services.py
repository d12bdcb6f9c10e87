"""Writes of the evals app: prompts, connected models, runs, judges, routing and settling.

Every write is a service here, under a transaction; background runs (``evals.tasks``) call
:func:`run_execute`, which makes the HTTP calls outside any transaction and stores each result
as it comes in (in the calling thread only: ``evals.calls`` does the threads).
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

import kinds
from annotation.models import ContributorStatus, ProjectContributor, Task
from annotation.webhooks import DeliveryRefused, destination_check
from evals import calls, judging
from evals.models import (
    Calibration,
    EvalItem,
    EvalModel,
    EvalRun,
    Judge,
    JudgeGrade,
    JudgeStatus,
    JudgeVersion,
    PeopleTask,
    Response,
    Route,
    RunStatus,
)
from kinds.rubric_eval import formats, metrics
from kinds.rubric_eval.kind import MAX_TEXT, RubricEvalKind, verdicts_met
from labelhub.background import enqueue_with_rows
from labelhub.models import Project
from labelhub.quality_bars import quality_with_defaults
from labelhub.refusals import Refusal

log = logging.getLogger(__name__)

KEEP = object()  # api_key=KEEP: leave the stored key as it is
MAX_ERRORS = 50
CHUNK = 5000  # ids or keys in one IN (…): under SQLite's limit of bound parameters
MAX_IMPORT = 100_000
JUDGE_USERNAME_PREFIX = "judge-"
UNTAGGED = "(untagged)"


class EvalRefused(Refusal):
    """An action the eval set cannot take now; the message says why (HTTP 409, or 400 for a
    bad request). The API's exception handler answers it as every refusal."""

    code = "eval_refused"
    status = 409


def is_eval_set(*, project: Project) -> bool:
    """A project of the rubric-eval kind that grades responses (not one where rubrics are
    written): the kind says so, no name is compared."""
    kind = kinds.find(project.kind)  # None: a kind no longer installed
    return isinstance(kind, RubricEvalKind) and kind.grades(schema=project.schema or {})


def eval_set_check(*, project: Project) -> None:
    """Refuse eval actions on a project that is not a rubric eval in grade mode."""
    if not is_eval_set(project=project):
        raise EvalRefused(
            "Eval runs, judges and the leaderboard belong to a rubric-eval project in grade mode.",
            code="not_an_eval_set",
        )


# --- prompts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemsImported:
    created: int
    updated: int


@transaction.atomic
def items_import(*, project: Project, prompts: list[formats.EvalPrompt]) -> ItemsImported:
    """Add the prompts. A prompt whose key is known replaces the stored one; its responses are
    settled again, and when its rubric changed only the verdicts of unchanged criteria are
    kept (:func:`_verdicts_keep`)."""
    eval_set_check(project=project)
    keys = [p.key for p in prompts]
    known: dict[str, EvalItem] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        known.update({i.key: i for i in EvalItem.objects.filter(project=project, key__in=chunk)})
    new, changed, before = [], [], {}
    for prompt in prompts:
        item = known.get(prompt.key)
        if item is None:
            new.append(
                EvalItem(
                    project=project,
                    key=prompt.key,
                    prompt=prompt.prompt,
                    rubric=prompt.rubric,
                    example_tags=prompt.example_tags,
                )
            )
        elif (item.prompt, item.rubric, item.example_tags) != (
            prompt.prompt,
            prompt.rubric,
            prompt.example_tags,
        ):
            before[item.pk] = item.rubric
            item.prompt, item.rubric, item.example_tags = (
                prompt.prompt,
                prompt.rubric,
                prompt.example_tags,
            )
            changed.append(item)
    EvalItem.objects.bulk_create(new, batch_size=1000)
    EvalItem.objects.bulk_update(changed, ["prompt", "rubric", "example_tags"], batch_size=1000)
    for item in changed:
        _verdicts_keep(item=item, before=before[item.pk])
    Response.objects.filter(item__in=changed).update(stale=True)
    return ItemsImported(created=len(new), updated=len(changed))


def _verdicts_keep(*, item: EvalItem, before: list[dict]) -> None:
    """After a prompt's rubric changed: keep the people's and judges' verdicts only for the
    criteria that are the same (same id, words and points); the rest are graded again (people
    get a task with them when routed; a judge's next run grades the response again). Responses
    no person holds go back to *not routed yet*."""
    now = {c["id"]: (c["criterion"], c["points"]) for c in item.rubric}
    same = {c["id"] for c in before if now.get(c["id"]) == (c["criterion"], c["points"])}
    if same == set(now) and len(before) == len(now):
        return  # only tags or the prompt's words changed: every verdict still holds
    parts = list(PeopleTask.objects.filter(response__item=item))
    for part in parts:
        part.criteria = [cid for cid in part.criteria if cid in same]
    PeopleTask.objects.bulk_update(parts, ["criteria"])
    grades = list(JudgeGrade.objects.filter(response__item=item))
    for grade in grades:
        grade.verdicts = {cid: v for cid, v in grade.verdicts.items() if cid in same}
    JudgeGrade.objects.bulk_update(grades, ["verdicts"])
    Response.objects.filter(item=item, people_tasks__isnull=True).update(route=Route.WAITING)


def items_from_rubric_project(*, project: Project, source: Project) -> ItemsImported:
    """The accepted rubrics of a write-mode rubric project become (or replace) prompts here."""
    from quality.models import TaskOutcome

    kind = kinds.find(source.kind)
    if not isinstance(kind, RubricEvalKind) or not kind.writes(schema=source.schema or {}):
        raise EvalRefused(
            "Rubrics come from a rubric-eval project in write mode.",
            code="not_a_source",
            status=400,
        )
    if source.organization_id != project.organization_id:
        raise EvalRefused(
            "That project is not of this organization.", code="not_a_source", status=400
        )
    prompts = []
    rows = TaskOutcome.objects.filter(project=source, accepted_result__isnull=False).values_list(
        "task_id", "task__external_id", "task__data", "accepted_result"
    )
    for task_id, external_id, data, result in rows:
        prompts.append(
            formats.EvalPrompt(
                key=data.get("prompt_id") or external_id or f"task-{task_id}",
                prompt=data["prompt"],
                # Ids by content, as a HealthBench import gives them: the editor's cN follow
                # the rows, so taking the rubrics again after a fix would shift them.
                rubric=formats.with_stable_ids(
                    [{k: v for k, v in c.items() if k != "id"} for c in result["rubric"]]
                ),
                example_tags=data.get("example_tags") or [],
            )
        )
    if not prompts:
        raise EvalRefused(
            "That project has no accepted rubric yet.", code="nothing_accepted", status=400
        )
    return items_import(project=project, prompts=prompts)


# --- connected models and judges -----------------------------------------------------------------

ENDPOINT_LIMITS = {
    "temperature": (0.0, 2.0),
    "max_tokens": (1, 32_000),
    "concurrency": (1, 64),
    "requests_per_minute": (1, 100_000),
    "timeout_seconds": (1, 600),
    "max_retries": (0, 10),
    "price_input": (0.0, 1_000_000.0),
    "price_output": (0.0, 1_000_000.0),
}


def _endpoint_clean(target, values: dict, errors: dict) -> None:
    """Check and set the shared endpoint fields of a model or judge from ``values``."""
    from django.conf import settings

    base_url = values.get("base_url", target.base_url)
    try:
        destination_check(
            base_url,
            allow_private=getattr(settings, "LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES", False),
            called="calls to the model",
        )
    except DeliveryRefused as refused:
        errors["base_url"] = [str(refused)]
    target.base_url = base_url
    model = str(values.get("model", target.model) or "").strip()
    if not model or len(model) > 200:
        errors["model"] = ["Name the model as the endpoint knows it (1 to 200 characters)."]
    target.model = model
    for name, (low, high) in ENDPOINT_LIMITS.items():
        if name not in values:
            continue
        value = values[name]
        kind = float if isinstance(low, float) else int
        try:
            number = kind(value)
        except (TypeError, ValueError):
            errors[name] = [f"A number from {low:g} to {high:g}."]
            continue
        if isinstance(value, bool) or not low <= number <= high:
            errors[name] = [f"A number from {low:g} to {high:g}."]
            continue
        setattr(target, name, number)
    api_key = values.get("api_key", KEEP)
    if api_key is not KEEP:
        if not isinstance(api_key, str) or len(api_key) > 2000:
            errors["api_key"] = ["At most 2000 characters."]
        else:
            target.api_key = api_key.strip()


def eval_model_save(
    *, project: Project, values: dict, eval_model: EvalModel | None = None
) -> EvalModel:
    """Connect (or change) a model to measure; raises ``ValidationError`` keyed by field."""
    eval_set_check(project=project)
    target = eval_model or EvalModel(project=project)
    errors: dict[str, list[str]] = {}
    name = str(values.get("name", target.name) or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ["Give the model a name of 1 to 100 characters."]
    version = str(values.get("version", target.version) or "").strip()
    if len(version) > 100:
        errors["version"] = ["At most 100 characters."]
    target.name, target.version = name, version
    _endpoint_clean(target, values, errors)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise ValidationError(
            {"version": ["This eval set already has a model of that name and version."]}
        ) from None
    return target


def judge_save(*, project: Project, values: dict, actor, judge: Judge | None = None) -> Judge:
    """Add (or change) a judge; a new judge starts at version 1 of the default template (or of
    ``values["template"]``). Raises ``ValidationError`` keyed by field."""
    eval_set_check(project=project)
    target = judge or Judge(project=project)
    bar_before = (target.bar, target.min_items)
    errors: dict[str, list[str]] = {}
    name = str(values.get("name", target.name) or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ["Give the judge a name of 1 to 100 characters."]
    target.name = name
    for field, low, high in (("bar", 0.0, 1.0), ("human_share", 0.0, 1.0)):
        if field in values:
            try:
                number = float(values[field])
            except (TypeError, ValueError):
                number = -1.0
            if not low <= number <= high:
                errors[field] = [f"A number from {low:g} to {high:g}."]
            else:
                setattr(target, field, number)
    if "min_items" in values:
        try:
            target.min_items = int(values["min_items"])
            if not 1 <= target.min_items <= 1_000_000:
                raise ValueError
        except (TypeError, ValueError):
            errors["min_items"] = ["A whole number from 1 to 1000000."]
    _endpoint_clean(target, values, errors)
    template = values.get("template")
    if template is not None or judge is None:
        template = judging.DEFAULT_TEMPLATE if template is None else template
        if problems := judging.template_errors(template):
            errors["template"] = problems
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        try:
            with transaction.atomic():
                target.save()
        except IntegrityError:
            raise ValidationError(
                {"name": ["Another judge of this project has that name."]}
            ) from None
        current = target.versions.order_by("-number").first()
        if template is not None and (current is None or current.template != template):
            judge_version_create(judge=target, template=template, actor=actor)
        elif (
            judge is not None
            and (target.bar, target.min_items) != bar_before
            and current is not None
            and current.calibrations.exists()
        ):
            # The gate follows the bar at once: measured again against the new bar (the
            # judge is not stopped for it: the manager moved the bar, the judge did not fall).
            judge_calibrate(judge=target, stop_on_loss=False)
            responses_route(project=project)
    return target


def judge_version_create(*, judge: Judge, template: str, actor) -> JudgeVersion:
    """A new version of the grader prompt, with the contributor it grades as (who can never log
    in); its calibration starts from nothing."""
    if problems := judging.template_errors(template):
        raise ValidationError({"template": problems})
    last = judge.versions.order_by("-number").first()
    number = (last.number if last else 0) + 1
    User = get_user_model()
    user = User(
        username=f"{JUDGE_USERNAME_PREFIX}{judge.pk}-v{number}-{timezone.now():%Y%m%d%H%M%S%f}",
        first_name=f"{judge.name} v{number}"[:150],
        is_active=False,
    )
    user.set_unusable_password()
    user.save()
    version = JudgeVersion.objects.create(
        judge=judge, number=number, template=template, user=user, created_by=actor
    )
    ProjectContributor.objects.get_or_create(
        project_id=judge.project_id, user=user, defaults={"status": ContributorStatus.ACTIVE}
    )
    if last is not None:
        # The old version's gate is gone until this one is calibrated: what it graded alone
        # goes back to people (or to another judge that passes it).
        ProjectContributor.objects.filter(project_id=judge.project_id, user=last.user).update(
            status=ContributorStatus.PAUSED, pause_reason=f"Replaced by version {number}."
        )
        Response.objects.filter(project_id=judge.project_id).update(stale=True)
        responses_route(project=judge.project)
    return version


def judge_current_version(*, judge: Judge) -> JudgeVersion:
    return judge.versions.order_by("-number").first()


@transaction.atomic
def judge_stop(*, judge: Judge, reason: str) -> Judge:
    """Stop a judge with the reason: it grades nothing alone until resumed; its contributor is
    paused with the same words."""
    judge.status, judge.stop_reason = JudgeStatus.STOPPED, reason
    judge.save(update_fields=["status", "stop_reason"])
    ProjectContributor.objects.filter(
        project_id=judge.project_id, user__judge_version__judge=judge
    ).update(status=ContributorStatus.PAUSED, pause_reason=reason)
    Response.objects.filter(project_id=judge.project_id).update(stale=True)
    responses_route(project=judge.project)
    return judge


@transaction.atomic
def judge_delete(*, judge: Judge) -> None:
    """Remove a judge with its versions, grades and calibrations. What it graded alone goes back
    to people (or to another judge that passes it) in the same transaction; the contributors
    its versions worked as are paused, not deleted (other records may name them)."""
    project = judge.project
    ProjectContributor.objects.filter(
        project_id=judge.project_id, user__judge_version__judge=judge
    ).update(status=ContributorStatus.PAUSED, pause_reason=f"The judge {judge.name} was deleted.")
    judge.delete()
    Response.objects.filter(project=project).update(stale=True)
    responses_route(project=project)


@transaction.atomic
def judge_resume(*, judge: Judge) -> Judge:
    judge.status, judge.stop_reason = JudgeStatus.ACTIVE, ""
    judge.save(update_fields=["status", "stop_reason"])
    ProjectContributor.objects.filter(
        project_id=judge.project_id, user__judge_version__judge=judge
    ).update(status=ContributorStatus.ACTIVE, pause_reason="")
    Response.objects.filter(project_id=judge.project_id).update(stale=True)
    return judge


# --- responses -----------------------------------------------------------------------------------


@transaction.atomic
def responses_import(*, project: Project, rows: object) -> int:
    """Store responses of models LabelHub cannot reach: ``[{"task", "model", "response",
    "version"?}]`` where ``task`` is a prompt's key (its ``prompt_id``) or its id. All or
    nothing: every bad row is named (``3.model``) in one ``ValidationError``."""
    eval_set_check(project=project)
    if not isinstance(rows, list) or not rows:
        raise ValidationError({"rows": ["Send a non-empty list of {task, model, response}."]})
    if len(rows) > MAX_IMPORT:
        raise ValidationError({"rows": [f"At most {MAX_IMPORT} rows at once."]})
    items = dict(EvalItem.objects.filter(project=project).values_list("key", "pk"))
    ids = set(items.values())
    errors: dict[str, list[str]] = {}
    seen, new = set(), []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors[str(i)] = ["A row is an object {task, model, response}."]
            continue
        task = row.get("task")
        item_id = items.get(task) if isinstance(task, str) else None
        if item_id is None and isinstance(task, int) and not isinstance(task, bool):
            item_id = task if task in ids else None
        if item_id is None:
            errors[f"{i}.task"] = ["No prompt of this eval set has that key or id."]
        model, version = row.get("model"), row.get("version", "")
        if not isinstance(model, str) or not 0 < len(model.strip()) <= 100:
            errors[f"{i}.model"] = ["Name the model (1 to 100 characters)."]
        if not isinstance(version, str) or len(version) > 100:
            errors[f"{i}.version"] = ["A version is text of at most 100 characters."]
        text = row.get("response")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            errors[f"{i}.response"] = [f"The response is text of 1 to {MAX_TEXT} characters."]
        if f"{i}.task" in errors or f"{i}.model" in errors or f"{i}.version" in errors:
            continue
        key = (item_id, model.strip(), version.strip())
        if key in seen:
            errors[f"{i}.task"] = ["This model already has a response to this prompt above."]
            continue
        seen.add(key)
        if str(i) not in errors and f"{i}.response" not in errors:
            new.append(
                Response(
                    project=project,
                    item_id=item_id,
                    model_name=key[1],
                    version=key[2],
                    text=text,
                )
            )
    if not errors:
        wanted = {(r.item_id, r.model_name, r.version) for r in new}
        item_ids = sorted({r.item_id for r in new})
        for start in range(0, len(item_ids), CHUNK):
            stored = Response.objects.filter(
                project=project, item_id__in=item_ids[start : start + CHUNK]
            ).values_list("item_id", "model_name", "version", "item__key")
            for item_id, name, version, key in stored:
                if (item_id, name, version) in wanted:
                    errors["rows"] = [
                        f"{f'{name} {version}'.strip()} already answered prompt {key}; "
                        "responses are not replaced."
                    ]
                    break
    if errors:
        raise ValidationError(errors)
    Response.objects.bulk_create(new, batch_size=1000)
    return len(new)


# --- runs ----------------------------------------------------------------------------------------


def run_create(*, project: Project, actor, eval_models: list[EvalModel]) -> EvalRun:
    """Queue a run of the chosen models over the prompts they have not answered yet."""
    from evals.tasks import eval_run_process  # the tasks module imports this one

    eval_set_check(project=project)
    if not eval_models:
        raise ValidationError({"models": ["Pick at least one connected model."]})
    if any(m.project_id != project.pk for m in eval_models):
        raise ValidationError({"models": ["Some models are not connected to this eval set."]})
    if not EvalItem.objects.filter(project=project).exists():
        raise EvalRefused("The eval set has no prompts yet: import them first.", code="no_prompts")
    run = EvalRun.objects.create(project=project, created_by=actor)
    run.eval_models.set(eval_models)
    enqueue_with_rows(eval_run_process, run.pk)
    return run


def judge_run_create(*, judge: Judge, actor) -> EvalRun:
    """Queue the judge's current version over the responses it has not graded."""
    from evals.tasks import eval_run_process

    version = judge_current_version(judge=judge)
    if version is None or not Response.objects.filter(project_id=judge.project_id).exists():
        raise EvalRefused("There are no responses to grade yet.", code="no_responses")
    run = EvalRun.objects.create(
        project_id=judge.project_id, created_by=actor, judge_version=version
    )
    enqueue_with_rows(eval_run_process, run.pk)
    return run


def _response_calls(run: EvalRun) -> list[calls.Call]:
    jobs = []
    items = list(EvalItem.objects.filter(project_id=run.project_id).only("pk", "prompt"))
    for eval_model in run.eval_models.all():
        answered = set(
            Response.objects.filter(
                project_id=run.project_id, model_name=eval_model.name, version=eval_model.version
            ).values_list("item_id", flat=True)
        )
        jobs += [
            calls.Call(key=item.pk, endpoint=eval_model, messages=item.prompt)
            for item in items
            if item.pk not in answered
        ]
    return jobs


def _judge_calls(run: EvalRun) -> list[calls.Call]:
    version = run.judge_version
    judge = version.judge
    graded = dict(
        JudgeGrade.objects.filter(
            judge_version=version, error="", response__project_id=run.project_id
        ).values_list("response_id", "verdicts")
    )
    responses = [
        response
        for response in Response.objects.filter(project_id=run.project_id)
        .select_related("item")
        .only("pk", "text", "item__prompt", "item__rubric")
        .order_by("pk")
        # graded already, unless a criterion has no verdict (its rubric changed since)
        if not {c["id"] for c in response.item.rubric} <= set(graded.get(response.pk, ("-",)))
    ]
    return [
        calls.Call(
            key=response.pk,
            endpoint=judge,
            messages=[
                {
                    "role": "user",
                    "content": judging.render(
                        version.template,
                        prompt=response.item.prompt,
                        rubric=response.item.rubric,
                        response=response.text,
                    ),
                }
            ],
        )
        for response in responses
    ]


def _store_response(run: EvalRun, outcome: calls.Outcome) -> float:
    eval_model: EvalModel = outcome.call.endpoint
    completion = outcome.completion
    cost = eval_model.cost_of(
        prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens
    )
    Response.objects.get_or_create(
        item_id=outcome.call.key,
        model_name=eval_model.name,
        version=eval_model.version,
        defaults={
            "project_id": run.project_id,
            "eval_model": eval_model,
            "run": run,
            "text": completion.text,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "latency_ms": outcome.latency_ms,
            "cost": cost,
        },
    )
    return cost


def _store_grade(run: EvalRun, outcome: calls.Outcome) -> tuple[float, str]:
    version = run.judge_version
    judge = version.judge
    response = Response.objects.select_related("item").get(pk=outcome.call.key)
    values: dict = {"verdicts": {}, "error": outcome.error, "latency_ms": outcome.latency_ms}
    cost = 0.0
    if outcome.completion is not None:
        completion = outcome.completion
        cost = judge.cost_of(
            prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens
        )
        values.update(
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost=cost,
        )
        try:
            values["verdicts"] = judging.parse(
                completion.text, rubric=response.item.rubric, response=response.text
            )
        except judging.GradeUnreadable as unreadable:
            values["error"] = str(unreadable)
    JudgeGrade.objects.update_or_create(response=response, judge_version=version, defaults=values)
    Response.objects.filter(pk=response.pk).update(stale=True)
    return cost, values["error"]


HEARTBEAT_SECONDS = 5.0  # progress is saved at least this often while results come in
LEASE_SLACK = timedelta(minutes=2)


def run_lease(run: EvalRun) -> timedelta:
    """How long a running run may go without a heartbeat before it is taken to have lost its
    worker: the longest one call of its endpoints may take (every try timing out, with the
    waits between tries), plus two minutes."""
    endpoints = [run.judge_version.judge] if run.judge_version_id else list(run.eval_models.all())
    longest = max(
        (
            e.timeout_seconds * (e.max_retries + 1) + calls.MAX_BACKOFF * e.max_retries
            for e in endpoints
        ),
        default=0,
    )
    return timedelta(seconds=longest) + LEASE_SLACK


def _run_claim(run: EvalRun) -> bool:
    """Take the run in one conditional UPDATE: a queued run, or a running one whose worker
    stopped beating for longer than its lease (it died; the run resumes). False when another
    worker holds it, or it is over."""
    now = timezone.now()
    return bool(
        EvalRun.objects.filter(
            Q(status=RunStatus.QUEUED)
            | Q(status=RunStatus.RUNNING, heartbeat_at__lt=now - run_lease(run))
            | Q(status=RunStatus.RUNNING, heartbeat_at__isnull=True),
            pk=run.pk,
        ).update(status=RunStatus.RUNNING, heartbeat_at=now)
    )


def runs_abandoned(*, now=None) -> list[int]:
    """Runs whose worker died (running past their lease) or whose queue entry was lost (queued
    for over an hour): ``manage.py resume_eval_runs`` queues them again."""
    now = now or timezone.now()
    found = []
    for run in EvalRun.objects.filter(
        status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).select_related("judge_version__judge"):
        if run.status == RunStatus.QUEUED:
            if run.created_at < now - timedelta(hours=1):
                found.append(run.pk)
        elif run.heartbeat_at is None or run.heartbeat_at < now - run_lease(run):
            found.append(run.pk)
    return found


@transaction.atomic
def run_cancel(*, run: EvalRun) -> EvalRun:
    """Cancel a queued or running run: no new call is started (the calls under way finish and
    are kept); what it collected stays."""
    cancelled = EvalRun.objects.filter(
        pk=run.pk, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).update(status=RunStatus.CANCELLED, finished_at=timezone.now())
    if not cancelled:
        raise EvalRefused(f"Run {run.pk} is over already.", code="run_over")
    run.refresh_from_db()
    return run


def run_execute(*, run_id: int, send=calls.chat_complete) -> EvalRun:
    """Make the run's calls (outside any transaction), storing each result as it comes in.

    A run is claimed first (:func:`_run_claim`); one taken over from a dead worker resumes:
    what is stored is not asked again (prompts a model answered, responses a judge graded), and
    its counts go on from where they were. Each saved progress is also a heartbeat, and the
    place where a cancel is seen: the run then stops starting calls."""
    run = EvalRun.objects.select_related("judge_version__judge").get(pk=run_id)
    if not _run_claim(run):
        run.refresh_from_db()
        return run
    run.refresh_from_db()
    resumed = run.started_at is not None
    jobs = _judge_calls(run) if run.judge_version_id else _response_calls(run)
    # Resumed: what is stored counts as done; failed calls are tried again, so not counted.
    done, failed, cost, errors = 0, 0, 0.0, []
    if resumed:
        stored = run.responses.count() if not run.judge_version_id else run.done
        done, cost = stored, run.cost
    EvalRun.objects.filter(pk=run.pk).update(
        started_at=run.started_at or timezone.now(), total=done + failed + len(jobs)
    )
    beat = time.monotonic()

    def save_progress(**extra) -> bool:
        """Progress and a heartbeat; False when the run was cancelled meanwhile."""
        return bool(
            EvalRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                done=done, failed=failed, cost=cost, heartbeat_at=timezone.now(), **extra
            )
        )

    try:
        for outcome in calls.call_all(jobs, send=send):
            error = outcome.error
            if run.judge_version_id:
                spent, error = _store_grade(run, outcome)
                cost += spent
            elif outcome.completion is not None:
                cost += _store_response(run, outcome)
            if error:
                failed += 1
                if len(errors) < MAX_ERRORS:
                    errors.append({"key": outcome.call.key, "error": error[:500]})
            else:
                done += 1
            if time.monotonic() - beat >= HEARTBEAT_SECONDS or (done + failed) % 25 == 0:
                beat = time.monotonic()
                if not save_progress(errors=errors):
                    break  # cancelled: leaving the loop stops the pools (calls under way finish)
    except Exception as error:
        log.exception("Eval run %s failed", run.pk)
        errors.append({"key": None, "error": f"The run stopped: {error}"[:500]})
        save_progress(errors=errors, status=RunStatus.FAILED, finished_at=timezone.now())
        run.refresh_from_db()
        return run
    status = RunStatus.FAILED if jobs and not done else RunStatus.DONE
    finished = save_progress(errors=errors, status=status, finished_at=timezone.now())
    if not finished:  # cancelled: keep the counts of what came in
        EvalRun.objects.filter(pk=run.pk).update(done=done, failed=failed, cost=cost, errors=errors)
    if run.judge_version_id and done:
        judge_calibrate(judge=run.judge_version.judge)
        responses_route(project=run.project)
    run.refresh_from_db()
    return run


# --- people, judges and final verdicts -----------------------------------------------------------


def people_verdicts(*, response_ids: list[int] | None = None, project: Project) -> dict[int, dict]:
    """Response id → the people's verdicts, merged over its people's tasks (each task's accepted
    result, else the proposal of the answers in), keeping only the criteria each task still
    counts (``PeopleTask.criteria``); responses people have not graded are left out."""
    from quality.models import TaskOutcome

    counted = PeopleTask.objects.filter(response__project=project)
    if response_ids is not None:
        counted = counted.filter(response_id__in=response_ids)
    parts = {task_id: (rid, set(ids)) for task_id, rid, ids in counted.values_list(
        "task_id", "response_id", "criteria"
    )}  # fmt: skip
    outcomes = TaskOutcome.objects.filter(project=project, task__eval_part__isnull=False)
    if response_ids is not None:
        outcomes = outcomes.filter(task__eval_part__response_id__in=response_ids)
    found: dict[int, dict] = {}
    for task_id, accepted, proposal in outcomes.order_by("task_id").values_list(
        "task_id", "accepted_result", "proposal"
    ):
        response_id, ids = parts.get(task_id, (None, set()))
        result = accepted if accepted is not None else proposal
        verdicts = {c: v for c, v in ((result or {}).get("verdicts") or {}).items() if c in ids}
        if response_id is not None and verdicts:
            found.setdefault(response_id, {}).update(verdicts)
    return found


@dataclass(frozen=True)
class Gate:
    """What a judge version may grade alone: a criterion all of whose tags it passes (an
    untagged criterion counts as the tag ``(untagged)``, calibrated on untagged criteria only)
    on a prompt all of whose example tags it passes."""

    version_id: int
    passing: frozenset[str]
    themes: frozenset[str] = frozenset()  # the example tags it was calibrated on and passes

    def covers(self, criterion: dict, example_tags: list[str] | tuple = ()) -> bool:
        tags = criterion.get("tags") or [UNTAGGED]
        return all(tag in self.passing for tag in tags) and all(
            tag in self.themes for tag in example_tags
        )


def gates_for(*, project: Project) -> list[Gate]:
    """The active judges' current versions with their latest calibration (judges that passed
    nothing yet are left out), first judge first."""
    gates = []
    for judge in Judge.objects.filter(project=project, status=JudgeStatus.ACTIVE):
        version = judge_current_version(judge=judge)
        calibration = version and version.calibrations.first()
        if calibration and calibration.passing_tags:
            gates.append(
                Gate(
                    version.pk,
                    frozenset(calibration.passing_tags),
                    frozenset(calibration.passing_themes),
                )
            )
    return gates


def kept_for_people(response_id: int, share: float) -> bool:
    """Whether a response stays with people for ever (a stable draw per response)."""
    digest = hashlib.blake2b(str(response_id).encode(), digest_size=4).digest()
    return int.from_bytes(digest) / 2**32 < share


def response_tasks_create(
    *, project: Project, responses: list[Response], criteria: dict[int, list[dict]] | None = None
) -> None:
    """A people's task per response: the prompt, the rubric (or, from ``criteria``, only the
    criteria it holds) and the response; never the model's name."""
    kind = project.task_kind
    overlap = quality_with_defaults(project.quality)["overlap"]
    tasks, parts = [], []
    for response in responses:
        rubric = (criteria or {}).get(response.pk) or response.item.rubric
        data = kind.clean_data(
            {
                "prompt": response.item.prompt,
                "rubric": rubric,
                "response": response.text,
                "example_tags": response.item.example_tags,
                "prompt_id": response.item.key,
            },
            schema=project.schema,
        )
        task = Task(project=project, data=data, overlap=overlap)
        tasks.append(task)
        parts.append(PeopleTask(response=response, task=task, criteria=[c["id"] for c in rubric]))
    Task.objects.bulk_create(tasks, batch_size=500)
    for part in parts:
        part.task_id = part.task.pk
    PeopleTask.objects.bulk_create(parts, batch_size=500)
    for response in responses:
        response.route, response.stale = Route.PEOPLE, True
    Response.objects.bulk_update(responses, ["route", "stale"], batch_size=500)


@transaction.atomic
def responses_send_to_people(*, project: Project, count: int, seed: int = 0) -> int:
    """Send ``count`` responses not routed yet to people (a seeded random draw), e.g. the sample
    the judges are calibrated on. How many were sent."""
    import random

    eval_set_check(project=project)
    waiting = list(
        Response.objects.filter(project=project, route=Route.WAITING)
        .select_related("item")
        .order_by("pk")
    )
    draw = random.Random(seed)  # noqa: S311 (a sample to grade, not a secret)
    picked = draw.sample(waiting, min(count, len(waiting)))
    picked.sort(key=lambda r: r.pk)
    response_tasks_create(project=project, responses=picked)
    return len(picked)


@dataclass(frozen=True)
class Routed:
    people: int
    judge: int
    waiting: int


@transaction.atomic
def responses_route(*, project: Project) -> Routed:
    """Route every response whose criteria are not all held by people's tasks.

    A criterion is *judged* when an active judge's gate covers it and that judge version has a
    verdict for it. A response not routed yet waits while a gate covers some of its criteria
    but the judge has not graded it (or while an active judge waits for its first calibration);
    one in the covering judge's human share goes to people whole, for ever. Otherwise, when
    every criterion people do not hold is judged, a judge grades it alone (or with the people's
    part); the criteria neither people nor a judge cover go to people as a new task. So when a
    judge goes away (stopped, a new version, deleted) or a rubric changes, what it covered goes
    back to people (or to another judge that passes it): no score is silently lost."""
    eval_set_check(project=project)
    gates = gates_for(project=project)
    shares = {
        v.pk: v.judge.human_share
        for v in JudgeVersion.objects.filter(pk__in=[g.version_id for g in gates]).select_related(
            "judge"
        )
    }
    uncalibrated = any(
        not version.calibrations.exists()
        for judge in Judge.objects.filter(project=project, status=JudgeStatus.ACTIVE)
        if (version := judge_current_version(judge=judge))
    )
    held: dict[int, set[str]] = {}
    for response_id, ids in PeopleTask.objects.filter(response__project=project).values_list(
        "response_id", "criteria"
    ):
        held.setdefault(response_id, set()).update(ids)
    graded: dict[tuple[int, int], set[str]] = {
        (response_id, version_id): set(verdicts)
        for response_id, version_id, verdicts in JudgeGrade.objects.filter(
            response__project=project, judge_version_id__in=list(shares), error=""
        ).values_list("response_id", "judge_version_id", "verdicts")
    }
    to_people, to_judge, partial, waiting = [], [], {}, 0
    for response in (
        Response.objects.filter(project=project).select_related("item").order_by("pk").iterator()
    ):
        rubric, themes = response.item.rubric, response.item.example_tags or []
        mine = held.get(response.pk, set())
        rest = [c for c in rubric if c["id"] not in mine]
        if not rest:
            continue
        fresh = not mine and response.route == Route.WAITING
        gate = next((g for g in gates if any(g.covers(c, themes) for c in rest)), None)
        if fresh and gate is not None and kept_for_people(response.pk, shares[gate.version_id]):
            to_people.append(response)
            continue
        uncovered = [
            c
            for c in rest
            if not any(
                g.covers(c, themes) and c["id"] in graded.get((response.pk, g.version_id), ())
                for g in gates
            )
        ]
        pending = any(
            g.covers(c, themes) and c["id"] not in graded.get((response.pk, g.version_id), ())
            for c in uncovered
            for g in gates
        )
        if fresh and uncovered and (pending or (gate is None and uncalibrated)):
            waiting += 1  # a judge will grade it (or is still to be calibrated)
        elif not uncovered:
            if not mine and response.route != Route.JUDGE:
                to_judge.append(response)
        else:
            if len(uncovered) < len(rubric):
                partial[response.pk] = uncovered
            to_people.append(response)
    response_tasks_create(project=project, responses=to_people, criteria=partial)
    Response.objects.filter(pk__in=[r.pk for r in to_judge]).update(route=Route.JUDGE, stale=True)
    return Routed(people=len(to_people), judge=len(to_judge), waiting=waiting)


def responses_settle(*, project: Project) -> int:
    """Work out the final verdicts, score and tag scores of every response whose inputs changed
    (a judge graded it, people's answers came in or a review changed them, a rubric or a gate
    moved). People's verdicts win; a criterion people did not grade takes the verdict of the
    first active judge whose gate covers it. How many responses were settled."""
    from quality.models import TaskOutcome

    changed = TaskOutcome.objects.filter(project=project).filter(
        Q(computed_at__gt=F("task__eval_part__response__settled_at"))
        | Q(accepted_at__gt=F("task__eval_part__response__settled_at"))
    )
    stale = list(
        Response.objects.filter(project=project)
        .filter(
            Q(stale=True)
            | Q(settled_at__isnull=True)
            | Q(
                pk__in=PeopleTask.objects.filter(task_id__in=changed.values("task_id")).values(
                    "response_id"
                )
            )
        )
        .select_related("item")
        .only("pk", "item__rubric", "item__example_tags")
    )
    if not stale:
        return 0
    gates = gates_for(project=project)
    ids = [r.pk for r in stale]
    people = {}
    grades: dict[tuple[int, int], dict] = {}
    now = timezone.now()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        people.update(people_verdicts(project=project, response_ids=chunk))
        for response_id, version_id, verdicts in JudgeGrade.objects.filter(
            response_id__in=chunk, judge_version_id__in=[g.version_id for g in gates], error=""
        ).values_list("response_id", "judge_version_id", "verdicts"):
            grades[(response_id, version_id)] = verdicts
    for response in stale:
        rubric, themes = response.item.rubric, response.item.example_tags or []
        mine = people.get(response.pk) or {}
        final = {}
        for criterion in rubric:
            if criterion["id"] in mine:
                final[criterion["id"]] = mine[criterion["id"]]
                continue
            for gate in gates:
                verdict = (grades.get((response.pk, gate.version_id)) or {}).get(criterion["id"])
                if verdict is not None and gate.covers(criterion, themes):
                    final[criterion["id"]] = {**verdict, "by": "judge"}
                    break
        met = verdicts_met({"verdicts": final})
        response.verdicts = final
        response.score = metrics.response_score(rubric, met)
        response.tag_scores = metrics.tag_scores(rubric, met) if response.score is not None else {}
        response.stale, response.settled_at = False, now
    _settled_save(stale)
    return len(stale)


SETTLED_FIELDS = ("verdicts", "score", "tag_scores", "stale", "settled_at")


def _settled_save(responses: list[Response]) -> None:
    """Write the settled fields of many responses: one plain UPDATE per row, sent as a batch
    (``executemany``). ``bulk_update`` builds a CASE expression per field and row, and resolving
    those took 35 of the 39 s of settling 10,000 responses."""
    if not responses:
        return
    fields = [Response._meta.get_field(name) for name in SETTLED_FIELDS]
    table = connection.ops.quote_name(Response._meta.db_table)
    columns = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE {table} SET {columns} WHERE {connection.ops.quote_name('id')} = %s"  # noqa: S608
    rows = [
        [f.get_db_prep_save(getattr(r, f.attname), connection) for f in fields] + [r.pk]
        for r in responses
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 2000):
            cursor.executemany(sql, rows[start : start + 2000])


# --- calibration ---------------------------------------------------------------------------------


def answers_judged_recalibrate(*, project: Project, answers) -> None:
    """``quality.events.judged`` listener, inside the quality step's batch: when people's
    answers come in on responses that an active, already calibrated judge graded (its human
    share, or a new sample), the judge is measured again in the background after commit, so a
    judge that drifts below the bar is stopped without anyone clicking *Calibrate now*. One
    query, and none on projects that are not eval sets."""
    if not is_eval_set(project=project):
        return
    drifting = JudgeGrade.objects.filter(
        response__people_tasks__task_id__in=[a.task_id for a in answers],
        judge_version__judge__status=JudgeStatus.ACTIVE,
        judge_version__calibrations__isnull=False,
        error="",
    )
    if drifting.exists():
        from evals.tasks import judges_recalibrate_process  # the tasks module imports this one

        project_id = project.pk
        transaction.on_commit(lambda: judges_recalibrate_process.enqueue(project_id))


def judges_recalibrate(*, project_id: int) -> int:
    """Measure again every active judge of the project whose current version was calibrated
    before (a tag it passed and now fails stops it, with the reason), then route. How many
    judges were measured."""
    project = Project.objects.get(pk=project_id)
    measured = 0
    for judge in Judge.objects.filter(project=project, status=JudgeStatus.ACTIVE):
        version = judge_current_version(judge=judge)
        if version is not None and version.calibrations.exists():
            measured += judge_calibrate(judge=judge) is not None
    if measured:
        responses_route(project=project)
    return measured


def judge_calibrate(*, judge: Judge, stop_on_loss: bool = True) -> Calibration | None:
    """Measure the judge's current version against the people on every (response, criterion)
    both graded: macro-F1 and kappa with bootstrap intervals (whole responses resampled: a
    response's criteria are not independent), overall, per criterion tag, and per example tag
    of the prompts (HealthBench's themes) on the criteria whose tags pass. A tag or theme
    passes when it has ``min_items`` items and the lower end of its macro-F1 interval reaches
    the bar. The worst tag is named among the tags with ``min_items`` items (a tag of three
    items says little), else among all. A tag that passed and now fails stops the judge, with
    the reason (unless ``stop_on_loss`` is False: the manager moved the bar). ``None`` when
    nothing was graded by both yet."""
    version = judge_current_version(judge=judge)
    if version is None:
        return None
    project = judge.project
    people = people_verdicts(project=project)
    grades = JudgeGrade.objects.filter(
        judge_version=version,
        error="",
        response_id__in=PeopleTask.objects.filter(response__project=project).values("response_id"),
    ).select_related("response__item")
    truth, guess, tags_of, themes_of, groups = [], [], [], [], []
    for grade in grades.iterator(chunk_size=2000):
        mine = people.get(grade.response_id)
        if mine is None:
            continue  # people have not graded it yet
        themes = grade.response.item.example_tags or []
        for criterion in grade.response.item.rubric:
            cid = criterion["id"]
            if cid in mine and cid in grade.verdicts:
                truth.append(bool(mine[cid].get("met")))
                guess.append(bool(grade.verdicts[cid].get("met")))
                tags_of.append(criterion.get("tags") or [UNTAGGED])
                themes_of.append(themes)
                groups.append(grade.response_id)
    if not truth:
        return None

    def measured(picks: list[int] | None = None) -> dict:
        picks = range(len(truth)) if picks is None else picks
        agreement = metrics.bootstrap_agreement(
            [truth[i] for i in picks], [guess[i] for i in picks], groups=[groups[i] for i in picks]
        )
        passes = agreement.n >= judge.min_items and agreement.macro_f1.low >= judge.bar
        return {**agreement.as_dict(), "passes": passes}

    def by_label(labels_of: list[list[str]]) -> dict[str, dict]:
        return {
            label: measured([i for i, labels in enumerate(labels_of) if label in labels])
            for label in sorted({t for labels in labels_of for t in labels})
        }

    per_tag = by_label(tags_of)
    passing = [tag for tag, found in per_tag.items() if found["passes"]]
    # A theme is measured on the criteria whose tags pass: what the judge would grade alone on
    # the prompts of that theme (a theme where it fails those stops it grading them alone).
    alone = set(passing)
    per_theme = by_label(
        [
            themes if all(t in alone for t in tags) else []
            for tags, themes in zip(tags_of, themes_of, strict=True)
        ]
    )
    enough = [t for t in per_tag if per_tag[t]["n"] >= judge.min_items] or list(per_tag)
    worst = min(enough, key=lambda t: (per_tag[t]["macro_f1"]["value"], t)) if enough else ""
    previous = version.calibrations.first()
    with transaction.atomic():
        calibration = Calibration.objects.create(
            judge_version=version,
            bar=judge.bar,
            min_items=judge.min_items,
            items=len(truth),
            overall=measured(),
            per_tag=per_tag,
            passing_tags=passing,
            per_theme=per_theme,
            passing_themes=[t for t, found in per_theme.items() if found["passes"]],
            worst_tag=worst,
        )
        Response.objects.filter(project=project).update(stale=True)
        lost = sorted(set(previous.passing_tags if previous else []) - set(passing))
        if lost and judge.status == JudgeStatus.ACTIVE and stop_on_loss:
            tag = lost[0]
            found = per_tag.get(tag)
            if found:
                f1 = found["macro_f1"]
                reason = (
                    f"Stopped on {timezone.now():%Y-%m-%d}: on {tag} its macro-F1 against the "
                    f"experts fell to {f1['value']:.2f} (95% interval {f1['low']:.2f}–"
                    f"{f1['high']:.2f}, {found['n']} items), under the bar of {judge.bar:.2f}."
                )
            else:
                reason = f"Stopped: {tag} has no items graded by both any more."
            judge_stop(judge=judge, reason=reason)
    return calibration
