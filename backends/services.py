"""Connecting backends, asking them for predictions, and storing what they answer.

A prediction is stored three ways: a :class:`Prediction` row (what the backend said, measured
later against the accepted result), an entry at the front of ``Task.predictions`` (the editors
start from the first one, so the newest prediction is the starting point, and the entry names
its backend, version and score), and — on gold tasks always, elsewhere when the backend
``counts_as_answer`` — an answer by the version's own user, submitted through the queue's
``annotation_submit`` so that the quality step judges it exactly as a person's answer.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotation.models import (
    Assignment,
    AssignmentStatus,
    ContributorStatus,
    ProjectContributor,
    Task,
    TaskStatus,
)
from annotation.queue import annotation_submit
from annotation.services import tasks_rank
from annotation.webhooks import DeliveryRefused, destination_check
from backends import protocol
from backends.models import ModelBackend, ModelVersion, Prediction, PredictionRun, RunStatus
from backends.weights import USERNAME_PREFIX
from labelhub.background import enqueue_with_rows
from labelhub.models import Project
from quality.judging import judging_run

log = logging.getLogger(__name__)

KEEP = object()  # backend_save(auth_header=KEEP): leave the stored header as it is
MAX_ERRORS = 50
KEPT_MODEL_PREDICTIONS = 10  # backend entries kept per task in Task.predictions (newest first)


def backend_save(
    *,
    project: Project,
    name: str,
    url: str,
    backend: ModelBackend | None = None,
    auth_header: object = KEEP,
    timeout_seconds: int = 30,
    batch_size: int = 16,
    enabled: bool = True,
    predict_on_import: bool = True,
    counts_as_answer: bool = False,
    auto_accept_score: float | None = None,
) -> ModelBackend:
    """Create or change a backend; raises ``ValidationError`` keyed by field."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ["Give the backend a name of 1 to 100 characters."]
    try:
        destination_check(url, allow_private=protocol.allow_private(), called="model backend calls")
    except DeliveryRefused as refused:
        errors["url"] = [str(refused)]
    if not 1 <= int(timeout_seconds) <= 300:
        errors["timeout_seconds"] = ["From 1 to 300 seconds."]
    if not 1 <= int(batch_size) <= 500:
        errors["batch_size"] = ["From 1 to 500 tasks."]
    if auto_accept_score is not None and not 0 <= float(auto_accept_score) <= 1:
        errors["auto_accept_score"] = ["A score from 0 to 1, or empty for never."]
    if auto_accept_score is not None and not counts_as_answer:
        errors["auto_accept_score"] = ["Auto-accept needs the prediction to count as an answer."]
    if isinstance(auth_header, str) and len(auth_header) > 2000:
        errors["auth_header"] = ["At most 2000 characters."]
    if errors:
        raise ValidationError(errors)
    backend = backend or ModelBackend(project=project)
    backend.name, backend.url = name, url
    backend.timeout_seconds, backend.batch_size = int(timeout_seconds), int(batch_size)
    backend.enabled, backend.predict_on_import = enabled, predict_on_import
    backend.counts_as_answer = counts_as_answer
    backend.auto_accept_score = None if auto_accept_score is None else float(auto_accept_score)
    if auth_header is not KEEP:
        backend.auth_header = str(auth_header or "").strip()
    try:
        with transaction.atomic():
            backend.save()
    except IntegrityError:
        raise ValidationError(
            {"name": ["Another backend of this project has that name."]}
        ) from None
    return backend


def backend_health(*, backend: ModelBackend) -> ModelBackend:
    ok, message = protocol.health_check(backend=backend)
    backend.health_ok, backend.health_message = ok, message[:500]
    backend.health_checked_at = timezone.now()
    backend.save(update_fields=["health_ok", "health_message", "health_checked_at", "updated_at"])
    return backend


def version_for(*, backend: ModelBackend, version: str) -> ModelVersion:
    """The version's row and contributor, made on its first answer (never able to log in)."""
    found = ModelVersion.objects.filter(backend=backend, version=version).first()
    if found:
        return found
    User = get_user_model()
    with transaction.atomic():
        user = User(
            username=f"{USERNAME_PREFIX}{backend.pk}-{timezone.now().strftime('%Y%m%d%H%M%S%f')}",
            first_name=f"{backend.name} {version}"[:150],
            is_active=False,
        )
        user.set_unusable_password()
        user.save()
        try:
            with transaction.atomic():
                found = ModelVersion.objects.create(backend=backend, version=version, user=user)
        except IntegrityError:  # a parallel run made it first
            user.delete()
            return ModelVersion.objects.get(backend=backend, version=version)
        ProjectContributor.objects.get_or_create(
            project_id=backend.project_id, user=user, defaults={"status": ContributorStatus.ACTIVE}
        )
    return found


# --- runs -------------------------------------------------------------------------------------


def run_create(
    *, backend: ModelBackend, actor=None, trigger: str = "manual", task_ids: list[int] | None = None
) -> PredictionRun:
    """Queue a pass over the given tasks (none: every open task); it runs in the background."""
    from backends.tasks import prediction_run_process  # the tasks module imports this one

    run = PredictionRun.objects.create(
        backend=backend, created_by=actor, trigger=trigger, task_ids=sorted(task_ids or [])
    )
    enqueue_with_rows(prediction_run_process, run.pk)
    return run


def runs_after_import(*, project: Project) -> list[PredictionRun]:
    """After an import: a pass of each enabled backend over open tasks it has not predicted."""
    return [
        run_create(backend=backend, trigger="import")
        for backend in project.model_backends.filter(enabled=True, predict_on_import=True)
    ]


def _tasks_for(run: PredictionRun) -> list[int]:
    tasks = Task.objects.filter(project_id=run.backend.project_id)
    if run.task_ids:
        tasks = tasks.filter(pk__in=run.task_ids)
    else:
        tasks = tasks.filter(status=TaskStatus.OPEN)
    if run.trigger == "import":
        tasks = tasks.exclude(model_predictions__backend=run.backend)
    # Gold first: the version's accuracy is known (and a bad model paused) before its answers
    # count elsewhere.
    return list(tasks.order_by("-is_gold", "-priority", "pk").values_list("pk", flat=True))


def run_execute(*, run_id: int) -> PredictionRun:
    """Ask the backend batch by batch; store what each batch gives, note what failed."""
    run = PredictionRun.objects.select_related("backend__project").get(pk=run_id)
    if run.status != RunStatus.QUEUED:
        return run
    backend = run.backend
    ids = _tasks_for(run)
    PredictionRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, total=len(ids))
    errors: list[str] = []
    predicted = failed = 0
    for start in range(0, len(ids), backend.batch_size):
        chunk = ids[start : start + backend.batch_size]
        tasks = list(Task.objects.filter(pk__in=chunk).order_by("-is_gold", "pk"))
        try:
            replies, problems = protocol.predict(backend=backend, tasks=tasks)
        except protocol.BackendFailed as failure:
            failed += len(tasks)
            errors.append(f"Tasks {chunk[0]}–{chunk[-1]}: {failure}")
        else:
            stored = predictions_store(backend=backend, replies=replies)
            predicted += len(stored)
            failed += len(tasks) - len(stored)
            errors += problems
        PredictionRun.objects.filter(pk=run.pk).update(
            predicted=predicted, failed=failed, errors=errors[:MAX_ERRORS]
        )
    status = RunStatus.FAILED if ids and not predicted else RunStatus.DONE
    PredictionRun.objects.filter(pk=run.pk).update(status=status, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def predict_task(*, backend: ModelBackend, task: Task) -> Prediction:
    """One task, at once (the editor's "ask the model"); raises ``protocol.BackendFailed``."""
    replies, problems = protocol.predict(backend=backend, tasks=[task])
    if not replies:
        raise protocol.BackendFailed(
            problems[0] if problems else "The backend gave no prediction for this task."
        )
    return predictions_store(backend=backend, replies=replies)[0]


# --- storing ----------------------------------------------------------------------------------


def _entry(prediction: Prediction) -> dict:
    return {
        "result": prediction.result,
        "score": prediction.score,
        "model": prediction.backend.name,
        "model_version": prediction.version.version,
        "backend": prediction.backend_id,
        "prediction": prediction.pk,
        "created_at": prediction.created_at.isoformat(),
    }


def _version_paused(version: ModelVersion, project_id: int) -> bool:
    return ProjectContributor.objects.filter(
        project_id=project_id, user_id=version.user_id, status=ContributorStatus.PAUSED
    ).exists()


def predictions_store(*, backend: ModelBackend, replies: list[protocol.Reply]) -> list[Prediction]:
    """Store each reply; put it first in the task's predictions; count it where it counts.

    A paused version's answers are kept as rows (measured like the others) but are neither
    shown as drafts nor counted: like a paused person, it is out of the work.
    """
    versions = {
        r.model_version: version_for(backend=backend, version=r.model_version) for r in replies
    }
    paused = {v: _version_paused(mv, backend.project_id) for v, mv in versions.items()}
    stored: list[Prediction] = []
    with transaction.atomic():
        tasks = {
            t.pk: t
            for t in Task.objects.select_for_update()
            .filter(pk__in=[r.task_id for r in replies])
            .order_by("pk")
        }
        for reply in replies:
            task = tasks.get(reply.task_id)
            if task is None:  # deleted meanwhile
                continue
            prediction = Prediction.objects.create(
                task=task,
                backend=backend,
                version=versions[reply.model_version],
                result=reply.result,
                score=reply.score,
            )
            stored.append(prediction)
            if paused[reply.model_version]:
                continue
            others = [
                p for p in task.predictions or [] if not (isinstance(p, dict) and "backend" in p)
            ]
            mine = [p for p in task.predictions or [] if isinstance(p, dict) and "backend" in p]
            task.predictions = [_entry(prediction), *mine[: KEPT_MODEL_PREDICTIONS - 1], *others]
            # The newest model's confidence orders a lowest-score-first queue (ranked below).
            task.prediction_score, task.queue_rank = reply.score, 0.0
            task.save(update_fields=["predictions", "prediction_score", "queue_rank", "updated_at"])
    if stored:
        tasks_rank(project_id=backend.project_id, only_new=True)
    # Gold first, judged at once: a version credibly under the accuracy floor is paused by the
    # quality step before any of its other answers count.
    gold = [p for p in stored if p.task.is_gold and not paused[p.version.version]]
    for prediction in gold:
        answer_from_prediction(prediction=prediction)
    if any(p.annotation_id for p in gold):
        judging_run(project_id=backend.project_id)
    for prediction in stored:
        if not prediction.task.is_gold and not _version_paused(
            prediction.version, backend.project_id
        ):
            answer_from_prediction(prediction=prediction)
    from backends.measure import predictions_measure

    predictions_measure(predictions=stored)
    return stored


def _lease_for_model(*, prediction: Prediction, now) -> int | None:
    """A lease of the task to the version's user, if its answer is to count now; its id."""
    backend = prediction.backend
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=prediction.task_id)
        counts = task.is_gold or backend.counts_as_answer
        if not counts or task.status != TaskStatus.OPEN:
            return None
        user_id = prediction.version.user_id
        pc = ProjectContributor.objects.filter(project_id=task.project_id, user_id=user_id).first()
        if pc is None or pc.status != ContributorStatus.ACTIVE:
            return None
        if Assignment.objects.filter(task=task, contributor_id=user_id).exists():
            return None  # this version answered the task before: one answer per contributor
        # A gold answer takes no slot (gold has no overlap): the queue leases it uncounted too.
        changes: dict = {}
        if not task.is_gold:
            changes["lease_count"] = F("lease_count") + 1
            if task.lease_count >= task.overlap - task.answer_count:
                return None  # no free slot: people hold them all
            confident = (
                backend.auto_accept_score is not None
                and prediction.score >= backend.auto_accept_score
            )
            if confident and task.answer_count == 0 and task.lease_count == 0:
                changes["overlap"] = 1  # the model's answer is enough; the review rule samples it
        if changes:
            Task.objects.filter(pk=task.pk).update(**changes)
        assignment = Assignment.objects.create(
            task=task,
            contributor_id=user_id,
            project_id=task.project_id,
            status=AssignmentStatus.ACTIVE,
            lease_expires_at=now + timedelta(minutes=5),
        )
        return assignment.pk


def answer_from_prediction(*, prediction: Prediction) -> None:
    """Submit the prediction as its version's answer, when it counts (gold, or counts_as_answer)."""
    assignment_id = _lease_for_model(prediction=prediction, now=timezone.now())
    if assignment_id is None:
        return
    submission = annotation_submit(
        assignment_id=assignment_id,
        contributor=prediction.version.user,
        result=prediction.result,
        active_seconds=0,
    )
    Prediction.objects.filter(pk=prediction.pk).update(annotation=submission.annotation)
    prediction.annotation = submission.annotation


@dataclass(frozen=True)
class RunView:
    run: PredictionRun

    def as_dict(self) -> dict:
        run = self.run
        return {
            "id": run.pk,
            "backend": run.backend_id,
            "trigger": run.trigger,
            "status": run.status,
            "total": run.total,
            "predicted": run.predicted,
            "failed": run.failed,
            "errors": run.errors,
            "created_at": run.created_at,
            "finished_at": run.finished_at,
        }
