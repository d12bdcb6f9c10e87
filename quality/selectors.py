"""Quality reads: the review queue, a review item, a contributor's own work, the dashboard.

Each is a fixed number of queries whatever the size of the project (tests assert the counts).
"""

import difflib
import json
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Avg, Count, F, FloatField, Prefetch, Value
from django.db.models.functions import Floor, Least, TruncDate

from annotation.models import Annotation, ProjectContributor, Task, TaskStatus
from labelhub.models import Project
from labelhub.quality_bars import quality_with_defaults
from quality.agreement import alpha_in_words, criteria_units, krippendorff_alpha, preference_units
from quality.judging import Backlog, backlog_for
from quality.models import AnnotationReview, AnswerJudgement, Review, TaskOutcome
from quality.standing import StandingView, standing_view


def review_queue(*, project: Project, limit: int = 50) -> list[Task]:
    """Tasks waiting for review: flagged first, then low agreement, then the sample; oldest
    first within each. One query."""
    return list(
        Task.objects.filter(project=project, status=TaskStatus.IN_REVIEW, is_gold=False)
        .select_related("outcome")
        .order_by("-outcome__review_priority", "outcome__in_review_since", "pk")[:limit]
    )


def review_next(*, project: Project) -> Task | None:
    items = review_queue(project=project, limit=1)
    return items[0] if items else None


def counted_annotations(task: Task):
    return (
        task.annotations.exclude(quality_reviews__judgement=AnswerJudgement.REJECTED)
        .select_related("contributor")
        .order_by("pk")
    )


@dataclass(frozen=True)
class WordDiff:
    parts: list[tuple[str, str]]  # (op, text): op is "same", "del" or "ins"


def word_diff(base: str, other: str) -> WordDiff:
    a, b = base.split(), other.split()
    parts: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(("same", " ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            parts.append(("del", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            parts.append(("ins", " ".join(b[j1:j2])))
    return WordDiff(parts)


@dataclass(frozen=True)
class DrawnBox:
    """One box of an answer, ready to draw over the image (image pixels, the label's colour)."""

    label: str
    x: float
    y: float
    w: float
    h: float
    colour: str


@dataclass
class ReviewAnswer:
    annotation: Annotation
    name: str
    diff: WordDiff | None = None
    boxes: list[DrawnBox] = field(default_factory=list)

    @property
    def pretty(self) -> str:
        return json.dumps(self.annotation.result, indent=2, ensure_ascii=False)

    @property
    def summary(self) -> str:
        """A ranking answer in words: ``b > a > c`` or ``a (strength 2)``."""
        result = self.annotation.result
        if isinstance(result.get("order"), list):
            return " > ".join(map(str, result["order"]))
        if "preference" in result:
            return f"{result['preference']} (strength {result.get('strength', 1)})"
        return ""


@dataclass
class ReviewItem:
    task: Task
    outcome: TaskOutcome
    answers: list[ReviewAnswer] = field(default_factory=list)
    image_width: float | None = None
    image_height: float | None = None

    @property
    def box_stroke(self) -> float:
        """A line width that reads the same whatever the image's size."""
        return max(self.image_width or 0, self.image_height or 0, 200) / 250


def _drawn_boxes(*, project: Project, result: dict) -> list[DrawnBox]:
    colours = {label["name"]: label.get("colour") for label in project.schema.get("labels", [])}
    return [
        DrawnBox(
            label=str(box.get("label", "")),
            x=box["x"],
            y=box["y"],
            w=box["w"],
            h=box["h"],
            colour=colours.get(box.get("label")) or "#e6194b",
        )
        for box in result.get("boxes", [])
        if all(isinstance(box.get(key), int | float) for key in ("x", "y", "w", "h"))
    ]


def review_item(*, project: Project, task_id: int) -> ReviewItem:
    """A task in review with its counted answers (transcripts: a word diff against the
    proposal). Raises ``Task.DoesNotExist`` outside the project or when not in review."""
    task = Task.objects.select_related("outcome").get(
        pk=task_id, project=project, is_gold=False, status=TaskStatus.IN_REVIEW
    )
    task.project = project
    answers = []
    is_bbox = project.kind == "bbox"
    proposal_text = (task.outcome.proposal or {}).get("text")
    for annotation in counted_annotations(task):
        user = annotation.contributor
        diff = None
        if isinstance(proposal_text, str) and isinstance(annotation.result.get("text"), str):
            diff = word_diff(proposal_text, annotation.result["text"])
        boxes = _drawn_boxes(project=project, result=annotation.result) if is_bbox else []
        answers.append(
            ReviewAnswer(annotation, user.get_full_name() or user.get_username(), diff, boxes)
        )
    item = ReviewItem(task=task, outcome=task.outcome, answers=answers)
    if is_bbox:
        # The image's size: from the task, the upload, or (URL images) what the editor reported.
        sizes = [task.data, task.media_meta or {}, *(a.annotation.result for a in answers)]
        item.image_width = next((s["width"] for s in sizes if s.get("width")), None)
        item.image_height = next((s["height"] for s in sizes if s.get("height")), None)
    return item


def my_work(*, project: Project, user: AbstractBaseUser, limit: int = 200) -> list[Annotation]:
    """The user's own answers on the project (never other people's), newest first, each with its
    review judgements (and their reviews) prefetched. Two queries.

    Answers to gold tasks are listed like any other (leaving them out would tell the contributor
    which tasks were gold). The page shows a reviewer's verdict or "Not reviewed", never the
    task's status: gold tasks stay open for ever while real ones end accepted, so over weeks the
    status would single out the gold.
    """
    judgements = AnnotationReview.objects.select_related("review").order_by("-review__created_at")
    return list(
        Annotation.objects.filter(task__project=project, contributor=user)
        .prefetch_related(Prefetch("quality_reviews", queryset=judgements, to_attr="judgements"))
        .order_by("-created_at", "-pk")[:limit]
    )


SORT_KEYS = {
    "name": lambda s: s.name.lower(),
    "accuracy": lambda s: -1 if s.gold_accuracy is None else s.gold_accuracy,
    "agreement": lambda s: -1 if s.peer_agreement is None else s.peer_agreement,
    "acceptance": lambda s: -1 if s.review_acceptance is None else s.review_acceptance,
    "submitted": lambda s: s.submitted,
    "per_hour": lambda s: -1 if s.per_hour is None else s.per_hour,
    "active": lambda s: s.active_seconds,
    "status": lambda s: s.status,
}


def contributor_standings(*, project: Project, sort: str = "name") -> list[StandingView]:
    """Every contributor's standing on the project, from stored counters. One query."""
    quality = quality_with_defaults(project.quality)
    rows = (
        ProjectContributor.objects.filter(project=project)
        .select_related("user", "standing")
        .order_by("pk")
    )
    views = [standing_view(pc=pc, quality=quality) for pc in rows]
    key = sort.removeprefix("-")
    if key in SORT_KEYS:
        views.sort(key=SORT_KEYS[key], reverse=sort.startswith("-"))
    return views


@dataclass(frozen=True)
class AlphaFigure:
    """Krippendorff's α of one question of the project, over its recent multi-answer tasks."""

    name: str
    alpha: float | None
    words: str
    tasks: int


ALPHA_WINDOW = 2000  # recent tasks with two or more answers; keeps the dashboard fast at any size


def project_alpha(*, project: Project) -> list[AlphaFigure]:
    """Agreement beyond chance where a nominal α applies: ranking verdicts (pairwise mode: the
    preference; rank mode: the top choice) and each criterion. Other kinds have no α here: their
    answers are geometry or text, measured by the per-task agreement instead."""
    if project.kind != "ranking":
        return []
    task_ids = list(
        TaskOutcome.objects.filter(project=project, answers_used__gte=2)
        .order_by("-computed_at")
        .values_list("task_id", flat=True)[:ALPHA_WINDOW]
    )
    results: dict[int, list[dict]] = {}
    ids_of: dict[int, list[str]] = {}
    rows = (
        Annotation.objects.filter(task_id__in=task_ids)
        .exclude(quality_reviews__judgement=AnswerJudgement.REJECTED)
        .values_list("task_id", "result", "task__data")
        .order_by("task_id", "pk")
    )
    for task_id, result, data in rows:
        results.setdefault(task_id, []).append(result)
        ids_of.setdefault(task_id, [r["id"] for r in data.get("responses", [])])
    figures = []
    if project.schema.get("mode", "pairwise") == "pairwise":
        units = preference_units((ids_of[t], results[t]) for t in results)
        name = "Preferred response"
    else:
        units = [[(r.get("order") or [None])[0] for r in rs] for rs in results.values()]
        name = "Top choice"
    if units:
        alpha = krippendorff_alpha(units)
        figures.append(AlphaFigure(name, alpha, alpha_in_words(alpha), len(units)))
    for criterion, criterion_units in sorted(criteria_units(results.values()).items()):
        alpha = krippendorff_alpha(criterion_units)
        figures.append(AlphaFigure(criterion, alpha, alpha_in_words(alpha), len(criterion_units)))
    return figures


@dataclass(frozen=True)
class Dashboard:
    progress: dict[str, int]
    total: int
    agreement_bins: list[int]
    agreement_by_day: list[tuple]
    review_outcomes: dict[str, int]
    standings: list[StandingView]
    alphas: list[AlphaFigure]
    backlog: Backlog


def quality_dashboard(*, project: Project, sort: str = "name") -> Dashboard:
    """Everything the dashboard shows, in five aggregate queries."""
    by_status = dict(
        Task.objects.filter(project=project, is_gold=False)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    progress = {status: by_status.get(status, 0) for status in TaskStatus.values}
    bins = [0] * 10
    for b, n in (
        TaskOutcome.objects.filter(project=project, agreement__isnull=False)
        .annotate(bin=Least(Floor(F("agreement") * 10.0), Value(9.0), output_field=FloatField()))
        .values_list("bin")
        .annotate(n=Count("pk"))
        .values_list("bin", "n")
    ):
        bins[int(b)] += n
    by_day = list(
        TaskOutcome.objects.filter(project=project, agreement__isnull=False)
        .annotate(day=TruncDate("computed_at"))
        .values("day")
        .annotate(mean=Avg("agreement"), n=Count("pk"))
        .order_by("day")
        .values_list("day", "mean", "n")
    )
    outcomes = dict(
        Review.objects.filter(project=project)
        .values("verdict")
        .annotate(n=Count("pk"))
        .values_list("verdict", "n")
    )
    return Dashboard(
        progress=progress,
        total=sum(progress.values()),
        agreement_bins=bins,
        agreement_by_day=by_day,
        review_outcomes={v: outcomes.get(v, 0) for v in ("accept", "fix", "reject")},
        standings=contributor_standings(project=project, sort=sort),
        alphas=project_alpha(project=project),
        backlog=backlog_for(project=project),
    )
