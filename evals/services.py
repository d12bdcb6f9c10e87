"""Writes of the evals app: prompts, connected models, runs, judges, routing and settling.

Every write is a service here, under a transaction; background runs (``evals.tasks``) call
:func:`run_execute`, which makes the HTTP calls outside any transaction and stores each result
as it comes in (in the calling thread only: ``evals.calls`` does the threads).
"""

import hashlib
import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
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
    Response,
    Route,
    RunStatus,
)
from kinds.rubric_eval import formats, metrics
from kinds.rubric_eval.kind import MAX_TEXT, RubricEvalKind, verdicts_met
from labelhub.background import enqueue_with_rows
from labelhub.models import Project
from labelhub.quality_bars import quality_with_defaults

log = logging.getLogger(__name__)

KEEP = object()  # api_key=KEEP: leave the stored key as it is
MAX_ERRORS = 50
CHUNK = 5000  # ids or keys in one IN (…): under SQLite's limit of bound parameters
MAX_IMPORT = 100_000
JUDGE_USERNAME_PREFIX = "judge-"
UNTAGGED = "(untagged)"


class EvalRefused(Exception):
    """An action the eval set cannot take now; the message says why (HTTP 409 or 400)."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def is_eval_set(*, project: Project) -> bool:
    """A project of the rubric-eval kind that grades responses (not one where rubrics are
    written): the kind says so, no name is compared."""
    kind = kinds.find(project.kind)  # None: a kind no longer installed
    return isinstance(kind, RubricEvalKind) and kind.grades(schema=project.schema or {})


def eval_set_check(*, project: Project) -> None:
    """Refuse eval actions on a project that is not a rubric eval in grade mode."""
    if not is_eval_set(project=project):
        raise EvalRefused(
            "Eval runs, judges and the leaderboard belong to a rubric-eval project in grade mode."
        )


# --- prompts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemsImported:
    created: int
    updated: int


@transaction.atomic
def items_import(*, project: Project, prompts: list[formats.EvalPrompt]) -> ItemsImported:
    """Add the prompts (a prompt whose key is known replaces the stored one; its responses are
    settled again, since their rubric may have changed)."""
    eval_set_check(project=project)
    keys = [p.key for p in prompts]
    known: dict[str, EvalItem] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        known.update({i.key: i for i in EvalItem.objects.filter(project=project, key__in=chunk)})
    new, changed = [], []
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
            item.prompt, item.rubric, item.example_tags = (
                prompt.prompt,
                prompt.rubric,
                prompt.example_tags,
            )
            changed.append(item)
    EvalItem.objects.bulk_create(new, batch_size=1000)
    EvalItem.objects.bulk_update(changed, ["prompt", "rubric", "example_tags"], batch_size=1000)
    Response.objects.filter(item__in=changed).update(stale=True)
    return ItemsImported(created=len(new), updated=len(changed))


def items_from_rubric_project(*, project: Project, source: Project) -> ItemsImported:
    """The accepted rubrics of a write-mode rubric project become (or replace) prompts here."""
    from quality.models import TaskOutcome

    kind = kinds.find(source.kind)
    if not isinstance(kind, RubricEvalKind) or not kind.writes(schema=source.schema or {}):
        raise EvalRefused("Rubrics come from a rubric-eval project in write mode.", status=400)
    if source.organization_id != project.organization_id:
        raise EvalRefused("That project is not of this organization.", status=400)
    prompts = []
    rows = TaskOutcome.objects.filter(project=source, accepted_result__isnull=False).values_list(
        "task_id", "task__external_id", "task__data", "accepted_result"
    )
    for task_id, external_id, data, result in rows:
        prompts.append(
            formats.EvalPrompt(
                key=data.get("prompt_id") or external_id or f"task-{task_id}",
                prompt=data["prompt"],
                rubric=result["rubric"],
                example_tags=data.get("example_tags") or [],
            )
        )
    if not prompts:
        raise EvalRefused("That project has no accepted rubric yet.", status=400)
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
    return judge


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
        raise EvalRefused("The eval set has no prompts yet: import them first.")
    run = EvalRun.objects.create(project=project, created_by=actor)
    run.eval_models.set(eval_models)
    enqueue_with_rows(eval_run_process, run.pk)
    return run


def judge_run_create(*, judge: Judge, actor) -> EvalRun:
    """Queue the judge's current version over the responses it has not graded."""
    from evals.tasks import eval_run_process

    version = judge_current_version(judge=judge)
    if version is None or not Response.objects.filter(project_id=judge.project_id).exists():
        raise EvalRefused("There are no responses to grade yet.")
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
    graded = JudgeGrade.objects.filter(judge_version=version, error="").values("response_id")
    responses = (
        Response.objects.filter(project_id=run.project_id)
        .exclude(pk__in=graded)
        .select_related("item")
        .only("pk", "text", "item__prompt", "item__rubric")
    )
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


def run_execute(*, run_id: int, send=calls.chat_complete) -> EvalRun:
    """Make the run's calls (outside any transaction), storing each result as it comes in."""
    run = EvalRun.objects.select_related("judge_version__judge").get(pk=run_id)
    if run.status != RunStatus.QUEUED:
        return run
    jobs = _judge_calls(run) if run.judge_version_id else _response_calls(run)
    EvalRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), total=len(jobs)
    )
    done = failed = 0
    cost, errors = 0.0, []
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
            if (done + failed) % 25 == 0:
                EvalRun.objects.filter(pk=run.pk).update(done=done, failed=failed, cost=cost)
    except Exception as error:
        log.exception("Eval run %s failed", run.pk)
        errors.append({"key": None, "error": f"The run stopped: {error}"[:500]})
        EvalRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            done=done,
            failed=failed,
            cost=cost,
            errors=errors,
            finished_at=timezone.now(),
        )
        run.refresh_from_db()
        return run
    status = RunStatus.FAILED if jobs and not done else RunStatus.DONE
    EvalRun.objects.filter(pk=run.pk).update(
        status=status,
        done=done,
        failed=failed,
        cost=cost,
        errors=errors,
        finished_at=timezone.now(),
    )
    if run.judge_version_id and done:
        judge_calibrate(judge=run.judge_version.judge)
        responses_route(project=run.project)
    run.refresh_from_db()
    return run


# --- people, judges and final verdicts -----------------------------------------------------------


def people_verdicts(*, response_ids: list[int] | None = None, project: Project) -> dict[int, dict]:
    """Response id → the people's verdicts (the accepted result, else the proposal of the
    answers in; responses people have not graded are left out)."""
    from quality.models import TaskOutcome

    outcomes = TaskOutcome.objects.filter(
        project=project, task__eval_response__isnull=False
    ).values_list("task__eval_response__id", "accepted_result", "proposal")
    if response_ids is not None:
        outcomes = outcomes.filter(task__eval_response__id__in=response_ids)
    found = {}
    for response_id, accepted, proposal in outcomes:
        result = accepted if accepted is not None else proposal
        verdicts = (result or {}).get("verdicts")
        if verdicts:
            found[response_id] = verdicts
    return found


@dataclass(frozen=True)
class Gate:
    """What a judge version may grade alone: the tags it passes (and untagged criteria when it
    passes overall)."""

    version_id: int
    passing: frozenset[str]

    def covers(self, criterion: dict) -> bool:
        tags = criterion.get("tags") or [UNTAGGED]
        return all(tag in self.passing for tag in tags)


def gates_for(*, project: Project) -> list[Gate]:
    """The active judges' current versions with their latest calibration (judges that passed
    nothing yet are left out), first judge first."""
    gates = []
    for judge in Judge.objects.filter(project=project, status=JudgeStatus.ACTIVE):
        version = judge_current_version(judge=judge)
        calibration = version and version.calibrations.first()
        if calibration and calibration.passing_tags:
            gates.append(Gate(version.pk, frozenset(calibration.passing_tags)))
    return gates


def kept_for_people(response_id: int, share: float) -> bool:
    """Whether a response stays with people for ever (a stable draw per response)."""
    digest = hashlib.blake2b(str(response_id).encode(), digest_size=4).digest()
    return int.from_bytes(digest) / 2**32 < share


def response_tasks_create(
    *, project: Project, responses: list[Response], criteria: dict[int, list[dict]] | None = None
) -> None:
    """A people's task per response: the prompt, the rubric (or, from ``criteria``, only the
    criteria no judge may grade alone) and the response; never the model's name."""
    kind = project.task_kind
    overlap = quality_with_defaults(project.quality)["overlap"]
    tasks = []
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
        tasks.append(Task(project=project, data=data, overlap=overlap))
    Task.objects.bulk_create(tasks, batch_size=500)
    for response, task in zip(responses, tasks, strict=True):
        response.task, response.route, response.stale = task, Route.PEOPLE, True
    Response.objects.bulk_update(responses, ["task", "route", "stale"], batch_size=500)


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
    """Route the responses not routed yet (and those a judge may no longer grade alone).

    A response goes to the first active judge that passes any tag of its rubric: when that
    judge passes every criterion and has graded the response, the judge grades it alone; when it
    passes some, people get a task with only the other criteria; when it has not graded the
    response yet, the response waits. A response in the judge's human share goes to people
    whole, for ever. A response no judge may grade goes to people whole, except while a judge
    still waits for its first calibration."""
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
    candidates = list(
        Response.objects.filter(
            project=project, route__in=[Route.WAITING, Route.JUDGE], task__isnull=True
        )
        .select_related("item")
        .order_by("pk")
    )
    graded = set(
        JudgeGrade.objects.filter(
            response__project=project, judge_version_id__in=list(shares), error=""
        ).values_list("response_id", "judge_version_id")
    )
    to_people, to_judge, partial, waiting = [], [], {}, 0
    for response in candidates:
        rubric = response.item.rubric
        gate = next((g for g in gates if any(g.covers(c) for c in rubric)), None)
        if gate is None:
            if uncalibrated and response.route == Route.WAITING:
                waiting += 1
            else:
                to_people.append(response)
        elif kept_for_people(response.pk, shares[gate.version_id]):
            to_people.append(response)
        elif (response.pk, gate.version_id) not in graded:
            if response.route == Route.JUDGE:
                to_people.append(response)  # graded by an older version only
            else:
                waiting += 1
        elif all(gate.covers(c) for c in rubric):
            if response.route != Route.JUDGE:
                to_judge.append(response)
        else:
            partial[response.pk] = [c for c in rubric if not gate.covers(c)]
            to_people.append(response)
    response_tasks_create(project=project, responses=to_people, criteria=partial)
    Response.objects.filter(pk__in=[r.pk for r in to_judge]).update(route=Route.JUDGE, stale=True)
    return Routed(people=len(to_people), judge=len(to_judge), waiting=waiting)


def responses_settle(*, project: Project) -> int:
    """Work out the final verdicts, score and tag scores of every response whose inputs changed
    (a judge graded it, people's answers came in or a review changed them, a rubric or a gate
    moved). People's verdicts win; a criterion people did not grade takes the verdict of the
    first active judge that passes all its tags. How many responses were settled."""
    from quality.models import TaskOutcome

    changed = TaskOutcome.objects.filter(project=project).filter(
        Q(computed_at__gt=F("task__eval_response__settled_at"))
        | Q(accepted_at__gt=F("task__eval_response__settled_at"))
    )
    stale = list(
        Response.objects.filter(project=project)
        .filter(
            Q(stale=True) | Q(settled_at__isnull=True) | Q(task_id__in=changed.values("task_id"))
        )
        .select_related("item")
        .only("pk", "item__rubric")
    )
    if not stale:
        return 0
    gates = gates_for(project=project)
    ids = [r.pk for r in stale]
    people = {}
    grades: dict[tuple[int, int], dict] = {}
    now = timezone.now()
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        people.update(people_verdicts(project=project, response_ids=chunk))
        for response_id, version_id, verdicts in JudgeGrade.objects.filter(
            response_id__in=chunk, judge_version_id__in=[g.version_id for g in gates], error=""
        ).values_list("response_id", "judge_version_id", "verdicts"):
            grades[(response_id, version_id)] = verdicts
    for response in stale:
        rubric = response.item.rubric
        final = dict(people.get(response.pk) or {})
        for criterion in rubric:
            if criterion["id"] in final:
                continue
            for gate in gates:
                verdict = (grades.get((response.pk, gate.version_id)) or {}).get(criterion["id"])
                if verdict is not None and gate.covers(criterion):
                    final[criterion["id"]] = {**verdict, "by": "judge"}
                    break
        met = verdicts_met({"verdicts": final})
        response.verdicts = final
        response.score = metrics.response_score(rubric, met)
        response.tag_scores = metrics.tag_scores(rubric, met) if response.score is not None else {}
        response.stale, response.settled_at = False, now
    Response.objects.bulk_update(
        stale, ["verdicts", "score", "tag_scores", "stale", "settled_at"], batch_size=1000
    )
    return len(stale)


# --- calibration ---------------------------------------------------------------------------------


def judge_calibrate(*, judge: Judge) -> Calibration | None:
    """Measure the judge's current version against the people on every (response, criterion)
    both graded: macro-F1 and kappa with bootstrap intervals, overall and per tag; a tag passes
    when it has ``min_items`` items and the lower end of its macro-F1 interval reaches the bar.
    A tag that passed and now fails stops the judge, with the reason. ``None`` when nothing
    was graded by both yet."""
    version = judge_current_version(judge=judge)
    if version is None:
        return None
    project = judge.project
    people = people_verdicts(project=project)
    grades = JudgeGrade.objects.filter(
        judge_version=version, error="", response__task__isnull=False
    ).select_related("response__item")
    truth, guess, tags_of = [], [], []
    for grade in grades.iterator(chunk_size=2000):
        mine = people.get(grade.response_id)
        if mine is None:
            continue
        for criterion in grade.response.item.rubric:
            cid = criterion["id"]
            if cid in mine and cid in grade.verdicts:
                truth.append(bool(mine[cid].get("met")))
                guess.append(bool(grade.verdicts[cid].get("met")))
                tags_of.append(criterion.get("tags") or [UNTAGGED])
    if not truth:
        return None
    overall = metrics.bootstrap_agreement(truth, guess)

    def verdict_of(agreement: metrics.Agreement) -> dict:
        passes = agreement.n >= judge.min_items and agreement.macro_f1.low >= judge.bar
        return {**agreement.as_dict(), "passes": passes}

    per_tag = {}
    for tag in sorted({t for tags in tags_of for t in tags}):
        picks = [i for i, tags in enumerate(tags_of) if tag in tags]
        per_tag[tag] = verdict_of(
            metrics.bootstrap_agreement([truth[i] for i in picks], [guess[i] for i in picks])
        )
    passing = [tag for tag, found in per_tag.items() if found["passes"]]
    worst = min(per_tag, key=lambda t: (per_tag[t]["macro_f1"]["value"], t)) if per_tag else ""
    previous = version.calibrations.first()
    with transaction.atomic():
        calibration = Calibration.objects.create(
            judge_version=version,
            bar=judge.bar,
            min_items=judge.min_items,
            items=len(truth),
            overall=verdict_of(overall),
            per_tag=per_tag,
            passing_tags=passing,
            worst_tag=worst,
        )
        Response.objects.filter(project=project).update(stale=True)
        lost = sorted(set(previous.passing_tags if previous else []) - set(passing))
        if lost and judge.status == JudgeStatus.ACTIVE:
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
