"""What a model saved: each prediction against the task's reference, and the sums per version.

The reference is the task's gold answer, else its accepted result. Per kind, what the kind measures
(``TaskKind.measure_prediction``: boxes — F1 and mean IoU of matched boxes; transcripts — WER and
CER; by default the kind's agreement between prediction and reference). Every kind: the kind's
score, and whether the prediction was accepted unchanged.
Measured on write for gold tasks and on read for tasks accepted since (one indexed query).
"""

from collections import defaultdict
from statistics import mean

from django.db.models import F, Q
from django.utils import timezone

import kinds
from annotation.models import Annotation, ProjectContributor
from backends.models import ModelBackend, ModelVersion, Prediction
from labelhub.quality_bars import quality_with_defaults
from quality.models import TaskOutcome
from quality.stats import wilson_interval


def _reference(prediction: Prediction, outcomes: dict[int, TaskOutcome]) -> tuple[str, dict] | None:
    task = prediction.task
    if task.is_gold and task.gold is not None:
        return "gold", task.gold
    outcome = outcomes.get(task.pk)
    if outcome is not None and outcome.accepted_result is not None:
        return "accepted", outcome.accepted_result
    return None


def measure_one(*, kind, result: dict, reference: dict, schema: dict, quality: dict) -> dict:
    """The score, whether it was kept unchanged, and the kind's own figures (``model_figures``)."""
    figures: dict = {
        "score": round(float(kind.score(result, reference, schema=schema, quality=quality)), 4),
        "unchanged": result == reference,
    }
    figures.update(kind.measure_prediction(result, reference, schema=schema, quality=quality))
    return figures


def predictions_measure(*, predictions: list[Prediction]) -> int:
    """Measure the predictions that have a reference; how many were."""
    if not predictions:
        return 0
    ids = [p.pk for p in predictions]
    rows = list(Prediction.objects.filter(pk__in=ids).select_related("task__project"))
    outcomes = {
        o.task_id: o for o in TaskOutcome.objects.filter(task__in=[p.task_id for p in rows])
    }
    now, changed = timezone.now(), []
    for prediction in rows:
        reference = _reference(prediction, outcomes)
        if reference is None:
            continue
        project = prediction.task.project
        figures = measure_one(
            kind=project.task_kind,
            result=prediction.result,
            reference=reference[1],
            schema=project.schema,
            quality=quality_with_defaults(project.quality),
        )
        prediction.measure = {"reference": reference[0], **figures}
        prediction.measured_at = now
        changed.append(prediction)
    Prediction.objects.bulk_update(changed, ["measure", "measured_at"])
    return len(changed)


def pending_measure(*, backend: ModelBackend) -> int:
    """Measure the backend's predictions whose task was accepted after they were measured."""
    pending = Prediction.objects.filter(
        backend=backend, task__outcome__accepted_at__isnull=False
    ).filter(Q(measured_at__isnull=True) | Q(measured_at__lt=F("task__outcome__accepted_at")))
    return predictions_measure(predictions=list(pending.only("pk")[:5000]))


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(mean(values), 4) if values else None


def _figure_means(*, measured: list[dict], accepted: list[dict]) -> dict[str, float | None]:
    """The mean of every installed kind's figures (``kinds.model_figures``: boxes ``mean_iou``,
    ``f1``; transcripts ``wer``, ``cer`` and ``gold_wer``; the others ``agreement``) over the
    accepted tasks, ``None`` where this version's kind measures none."""
    gold = [m for m in measured if m.get("reference") == "gold"]
    means: dict[str, float | None] = {}
    for figure in kinds.model_figures():
        means[figure.key] = _mean([m.get(figure.key) for m in accepted])
        if figure.on_gold:
            means[f"gold_{figure.key}"] = _mean([m.get(figure.key) for m in gold])
    return means


def version_summary(*, version: ModelVersion, quality: dict) -> dict:
    """A version's standing and what it saved, for the page and the API."""
    project = version.backend.project
    kind = project.task_kind
    pc = ProjectContributor.objects.filter(project=project, user_id=version.user_id).first()
    predictions = list(version.predictions.select_related("task").order_by("pk"))
    measured = [p.measure for p in predictions if p.measure]
    accepted = [m for m in measured if m.get("reference") == "accepted"]
    # Agreement with people: the prediction against each person's answer on the same task.
    human = defaultdict(list)
    for answer in Annotation.objects.filter(
        task__in=[p.task_id for p in predictions], contributor__model_version__isnull=True
    ).only("task_id", "result", "active_seconds"):
        human[answer.task_id].append(answer)
    agreements = [
        float(kind.agreement([p.result, a.result], schema=project.schema, quality=quality))
        for p in predictions
        for a in human[p.task_id]
    ]
    predicted_tasks = {p.task_id for p in predictions}
    with_prediction = [a.active_seconds for t in predicted_tasks for a in human[t]]
    without = list(
        Annotation.objects.filter(task__project=project, contributor__model_version__isnull=True)
        .exclude(task__model_predictions__version=version)
        .values_list("active_seconds", flat=True)[:20000]
    )
    gold_n = pc.gold_answered_count if pc else 0
    gold_sum = min(float(pc.gold_score_sum), float(gold_n)) if pc else 0.0
    interval = wilson_interval(gold_sum, gold_n) if gold_n else None
    unchanged = [m["unchanged"] for m in accepted]
    return {
        "id": version.pk,
        "backend": version.backend_id,
        "model_version": version.version,
        "predictions": len(predictions),
        "status": pc.status if pc else "active",
        "pause_reason": pc.pause_reason if pc else "",
        "standing": {
            "gold_answered": gold_n,
            "gold_accuracy": round(gold_sum / gold_n, 4) if gold_n else None,
            "gold_interval": [round(interval.low, 4), round(interval.high, 4)]
            if interval
            else None,
            "agreement_with_people": _mean(agreements),
            "changed_by_people": round(1 - mean(unchanged), 4) if unchanged else None,
            "answers_counted": sum(p.annotation_id is not None for p in predictions),
        },
        "saved": {
            "measured": len(measured),
            "accepted_measured": len(accepted),
            "accepted_unchanged_share": round(mean(unchanged), 4) if unchanged else None,
            **_figure_means(measured=measured, accepted=accepted),
            "active_seconds_with_prediction": _mean(with_prediction),
            "active_seconds_without_prediction": _mean(without),
        },
    }
