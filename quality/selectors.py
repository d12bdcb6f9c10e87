"""Quality reads: the review queue, a review item, a contributor's own work, the dashboard.

Each is a fixed number of queries whatever the size of the project (tests assert the counts).
"""

import json
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Avg, Count, F, FloatField, Prefetch, Value
from django.db.models.functions import Floor, Least, TruncDate

from annotation.models import Annotation, ProjectContributor, Task, TaskStatus
from labelhub import kinds
from labelhub.kinds import ReviewViews
from labelhub.models import Project
from labelhub.quality_bars import quality_with_defaults
from quality.agreement import alpha_in_words, krippendorff_alpha
from quality.judging import Backlog, backlog_for
from quality.models import AnnotationReview, AnswerJudgement, Review, TaskOutcome
from quality.standing import StandingView, standing_view


def review_queue(
    *, project: Project, limit: int = 50, reviewer: AbstractBaseUser | None = None
) -> list[Task]:
    """Tasks waiting for review: flagged first, then low agreement, then the sample; oldest
    first within each. One query. Without the tasks ``reviewer`` answered: nobody reviews their
    own answers (someone who manages a project and labels it has some)."""
    tasks = Task.objects.filter(project=project, status=TaskStatus.IN_REVIEW, is_gold=False)
    if reviewer is not None:
        tasks = tasks.exclude(annotations__contributor_id=reviewer.pk)
    return list(
        tasks.select_related("outcome").order_by(
            "-outcome__review_priority", "outcome__in_review_since", "pk"
        )[:limit]
    )


def review_next(*, project: Project, reviewer: AbstractBaseUser | None = None) -> Task | None:
    items = review_queue(project=project, limit=1, reviewer=reviewer)
    return items[0] if items else None


def counted_annotations(task: Task):
    return (
        task.annotations.exclude(quality_reviews__judgement=AnswerJudgement.REJECTED)
        .select_related("contributor")
        .order_by("pk")
    )


@dataclass
class ReviewAnswer:
    """One counted answer as the review screen shows it: ``view`` is what the kind's review
    partial needs for it, ``summary`` the kind's words for it."""

    annotation: Annotation
    name: str
    view: dict = field(default_factory=dict)
    summary: str = ""

    @property
    def pretty(self) -> str:
        return json.dumps(self.annotation.result, indent=2, ensure_ascii=False)


@dataclass
class ReviewItem:
    task: Task
    outcome: TaskOutcome
    answers: list[ReviewAnswer] = field(default_factory=list)
    view: dict = field(default_factory=dict)  # what the kind's partial shares across answers
    answer_template: str | None = None  # the kind's partial for one answer


def review_item(*, project: Project, task_id: int) -> ReviewItem:
    """A task in review with its counted answers, each as its kind shows it (a transcript as a
    word diff against the proposal, boxes over the image). Raises ``Task.DoesNotExist`` outside
    the project or when not in review."""
    task = Task.objects.select_related("outcome").get(
        pk=task_id, project=project, is_gold=False, status=TaskStatus.IN_REVIEW
    )
    task.project = project
    annotations = list(counted_annotations(task))
    kind = kinds.find(project.kind)
    results = [annotation.result for annotation in annotations]
    views = (
        kind.review_views(
            results=results,
            proposal=task.outcome.proposal,
            data=task.data,
            media_meta=task.media_meta or {},
            schema=project.schema,
        )
        if kind
        else ReviewViews(shared={}, answers=[{} for _ in results])
    )
    answers = [
        ReviewAnswer(
            annotation,
            annotation.contributor.get_full_name() or annotation.contributor.get_username(),
            view=view,
            summary=kind.review_summary(annotation.result, schema=project.schema) if kind else "",
        )
        for annotation, view in zip(annotations, views.answers, strict=True)
    ]
    return ReviewItem(
        task=task,
        outcome=task.outcome,
        answers=answers,
        view=views.shared,
        answer_template=kind.review_template if kind else None,
    )


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
    """Agreement beyond chance on the questions the project's kind asks of many tasks (ranking:
    the verdict and each criterion; conversations: each criterion, ordinal). Kinds whose answers
    are geometry or text have no alpha here: the per-task agreement measures them."""
    kind = kinds.find(project.kind)
    if kind is None or not kind.has_alpha:
        return []
    task_ids = list(
        TaskOutcome.objects.filter(project=project, answers_used__gte=2)
        .order_by("-computed_at")
        .values_list("task_id", flat=True)[:ALPHA_WINDOW]
    )
    results: dict[int, list[dict]] = {}
    data_of: dict[int, dict] = {}
    rows = (
        Annotation.objects.filter(task_id__in=task_ids)
        .exclude(quality_reviews__judgement=AnswerJudgement.REJECTED)
        .values_list("task_id", "result", "task__data")
        .order_by("task_id", "pk")
    )
    for task_id, result, data in rows:
        results.setdefault(task_id, []).append(result)
        data_of.setdefault(task_id, data)
    tasks = [(data_of[t], results[t]) for t in results]
    figures = []
    for question in kind.alpha_questions(tasks, schema=project.schema):
        if not question.units:
            continue
        alpha = krippendorff_alpha(question.units, level=question.level)
        figures.append(
            AlphaFigure(question.name, alpha, alpha_in_words(alpha), len(question.units))
        )
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
