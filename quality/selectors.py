"""Quality reads: the review queue, a review item, a contributor's own work, the dashboard.

Each is a fixed number of queries whatever the size of the project (tests assert the counts).
"""

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Avg, Count, F, FloatField, Prefetch, Sum, Value
from django.db.models.functions import Floor, Least, TruncDate
from django.utils import timezone

import kinds
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    ProjectContributor,
    Task,
    TaskStatus,
)
from kinds import ReviewViews
from labelhub.content import tasks_not_opted_out
from labelhub.models import Project
from labelhub.quality_bars import quality_with_defaults
from quality.agreement import alpha_in_words, krippendorff_alpha
from quality.judging import Backlog, backlog_for
from quality.models import (
    NOT_COUNTED,
    OVERRULED,
    AnnotationReview,
    AnswerJudgement,
    ContributorStanding,
    Review,
    ReviewReason,
    TaskOutcome,
)
from quality.standing import StandingView, standing_view
from quality.stats import Interval, jeffreys_interval, percent, plural

REVIEW_SORTS = {
    "priority": "Flagged first, then low agreement, then the sample (oldest first in each)",
    "oldest": "Waiting longest first",
    "newest": "Newest first",
    "agreement": "Lowest agreement first",
    "-agreement": "Highest agreement first",
}
REVIEW_ORDER = {
    "priority": ("-outcome__review_priority", "outcome__in_review_since", "pk"),
    "oldest": ("outcome__in_review_since", "pk"),
    "newest": ("-outcome__in_review_since", "-pk"),
    "agreement": (F("outcome__agreement").asc(nulls_last=True), "pk"),
    "-agreement": (F("outcome__agreement").desc(nulls_last=True), "pk"),
}


@dataclass(frozen=True)
class ReviewFilters:
    """What the review queue shows and in which order (the page's filters, the API's query):
    why the task is in review, whose answer it holds, and the sort. Unknown values are dropped,
    never an error: a stale link still opens the queue."""

    reason: str = ""
    contributor: str = ""  # a username
    sort: str = "priority"

    @classmethod
    def from_query(cls, query) -> "ReviewFilters":
        reason = query.get("reason", "")
        sort = query.get("sort", "priority")
        return cls(
            reason=reason if reason in ReviewReason.values else "",
            contributor=(query.get("contributor") or "").strip()[:150],
            sort=sort if sort in REVIEW_SORTS else "priority",
        )

    def as_query(self) -> str:
        """The filters as a query string (empty for the defaults), for links that keep them."""
        given = {"reason": self.reason, "contributor": self.contributor}
        if self.sort != "priority":
            given["sort"] = self.sort
        return urlencode({key: value for key, value in given.items() if value})

    @property
    def active(self) -> bool:
        return bool(self.reason or self.contributor)


def _review_tasks(*, project: Project, reviewer, filters: ReviewFilters):
    tasks = Task.objects.filter(project=project, status=TaskStatus.IN_REVIEW, is_gold=False)
    if reviewer is not None:
        tasks = tasks.exclude(annotations__contributor_id=reviewer.pk).exclude(
            pk__in=tasks_where_overruled(project=project, reviewer=reviewer)
        )
        # Reviewers have the same content opt-outs as contributors.
        tasks = tasks_not_opted_out(tasks, project=project, user=reviewer)
    if filters.reason:
        tasks = tasks.filter(outcome__review_reason=filters.reason)
    if filters.contributor:
        tasks = tasks.filter(annotations__contributor__username=filters.contributor)
    return tasks


def tasks_where_overruled(*, project: Project, reviewer: AbstractBaseUser):
    """Ids of the tasks on which an appeal reversed ``reviewer``'s rejection (a subquery): they
    go to another reviewer or a manager, never back to the one overruled."""
    return Review.objects.filter(
        project=project, reviewer_id=reviewer.pk, judgements__judgement__in=OVERRULED
    ).values("task_id")


def review_queue(
    *,
    project: Project,
    limit: int = 50,
    reviewer: AbstractBaseUser | None = None,
    filters: ReviewFilters = ReviewFilters(),  # frozen: one shared default is safe
) -> list[Task]:
    """Tasks waiting for review: by default flagged first, then low agreement, then the sample;
    oldest first within each (``filters`` narrow and sort it). One query. Without the tasks
    ``reviewer`` answered: nobody reviews their own answers (someone who manages a project and
    labels it has some), nor those where an appeal overruled ``reviewer``."""
    tasks = _review_tasks(project=project, reviewer=reviewer, filters=filters)
    return list(tasks.select_related("outcome").order_by(*REVIEW_ORDER[filters.sort])[:limit])


def review_queue_count(
    *, project: Project, reviewer: AbstractBaseUser | None, filters: ReviewFilters
) -> int:
    return _review_tasks(project=project, reviewer=reviewer, filters=filters).count()


def review_queue_people(*, project: Project) -> list[str]:
    """Usernames of the people with an answer in a task waiting for review (the filter's
    choices). One query."""
    return list(
        Annotation.objects.filter(
            task__project=project, task__status=TaskStatus.IN_REVIEW, task__is_gold=False
        )
        .values_list("contributor__username", flat=True)
        .distinct()
        .order_by("contributor__username")
    )


def review_next(
    *,
    project: Project,
    reviewer: AbstractBaseUser | None = None,
    filters: ReviewFilters = ReviewFilters(),
) -> Task | None:
    items = review_queue(project=project, limit=1, reviewer=reviewer, filters=filters)
    return items[0] if items else None


def counted_annotations(task: Task):
    return (
        task.annotations.exclude(quality_reviews__judgement__in=NOT_COUNTED)
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

    @property
    def result_json(self) -> str:
        """The answer as the editor loads it ("start the fix from this answer")."""
        return json.dumps(self.annotation.result, ensure_ascii=False)


# Keys of a result that are no part of the answer: an image's size, and the boxes a box
# consensus lists as drawn by too few answers to be in it.
NOT_THE_ANSWER = ("width", "height", "minority")


def is_empty_result(result: dict | None) -> bool:
    """An answer that says nothing: no boxes, no text, no choice. A consensus of answers that
    share nothing comes out like this."""
    return not any(value for key, value in (result or {}).items() if key not in NOT_THE_ANSWER)


@dataclass
class ReviewItem:
    task: Task
    outcome: TaskOutcome
    answers: list[ReviewAnswer] = field(default_factory=list)
    view: dict = field(default_factory=dict)  # what the kind's partial shares across answers
    answer_template: str | None = None  # the kind's partial for one answer

    @property
    def disagree(self) -> bool:
        """Two or more answers, not all the same: the reviewer compares them side by side and
        may start the fix from one, rather than accept a consensus they have not read."""
        results = {
            json.dumps(a.annotation.result, sort_keys=True, ensure_ascii=False)
            for a in self.answers
        }
        return len(results) > 1

    @property
    def proposal_empty(self) -> bool:
        return is_empty_result(self.outcome.proposal)


def review_item(
    *, project: Project, task_id: int, reviewer: AbstractBaseUser | None = None
) -> ReviewItem:
    """A task in review with its counted answers, each as its kind shows it (a transcript as a
    word diff against the proposal, boxes over the image). Raises ``Task.DoesNotExist`` outside
    the project, when not in review, or when ``reviewer`` opted out of its content."""
    tasks = Task.objects.all()
    if reviewer is not None:
        tasks = tasks_not_opted_out(tasks, project=project, user=reviewer)
    task = tasks.select_related("outcome").get(
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
        .select_related("assignment")
        .prefetch_related(Prefetch("quality_reviews", queryset=judgements, to_attr="judgements"))
        .order_by("-created_at", "-pk")[:limit]
    )


def waiting_for_correction(annotation: Annotation, judgement: AnnotationReview | None) -> bool:
    """Rejected, sent back to its author, and still theirs to correct (the week not out)."""
    assignment = annotation.assignment
    return (
        judgement is not None
        and judgement.sent_back
        and judgement.judgement == AnswerJudgement.REJECTED
        and assignment.status == AssignmentStatus.ACTIVE
        and assignment.lease_expires_at > timezone.now()
    )


@dataclass
class MyAnswer:
    """One of the person's answers on its own page: their answer, the accepted one and what the
    reviewers said, side by side (the cards, drawn as the review screen draws answers)."""

    annotation: Annotation
    task: Task
    judgements: list[AnnotationReview]
    cards: list = field(default_factory=list)
    view: dict = field(default_factory=dict)
    answer_template: str | None = None

    @property
    def judgement(self) -> AnnotationReview | None:
        return self.judgements[0] if self.judgements else None

    @property
    def correct_now(self) -> bool:
        return waiting_for_correction(self.annotation, self.judgement)


def my_answer(*, project: Project, user: AbstractBaseUser, annotation_id: int) -> MyAnswer:
    """The user's own answer ``annotation_id`` (``Annotation.DoesNotExist`` for anyone else's).

    The accepted answer is shown only when a reviewer accepted or fixed the task with this
    answer in it (their fix, or the consensus they accepted). It is never shown otherwise: a
    gold task is never accepted, so an answer with an accepted result beside it while others
    have none would single out the gold; and after a rejection the task is answered by others,
    whose work is not the contributor's to see. A gold answer's page reads like any answer not
    reviewed yet.
    """
    from quality.task_page import Card  # the task page's cards, drawn by the same partials

    annotation = (
        Annotation.objects.select_related("task", "assignment")
        .filter(task__project=project, contributor=user)
        .get(pk=annotation_id)
    )
    task = annotation.task
    task.project = project
    judgements = list(
        AnnotationReview.objects.filter(annotation=annotation)
        .select_related("review")
        .order_by("-review__created_at", "-pk")
    )
    cards = [Card("Your answer", annotation.result)]
    for judgement in judgements:
        if judgement.judgement == AnswerJudgement.REVISED and judgement.result is not None:
            cards[0].name = "Your corrected answer"
            cards.append(Card("Your answer as it was rejected", judgement.result, rejected=True))
    latest = judgements[0] if judgements else None
    accepted = None
    if latest is not None and latest.judgement in (
        AnswerJudgement.ACCEPTED,
        AnswerJudgement.CORRECTED,
    ):
        review = latest.review
        if review.verdict == "fix":
            accepted = review.result
        else:
            accepted = (
                TaskOutcome.objects.filter(task=task).values_list("accepted_result", flat=True)
            ).first()
    if accepted:
        fixed = latest.review.verdict == "fix"
        name = "The reviewer's fix (the accepted answer)" if fixed else "The accepted answer"
        cards.insert(1, Card(name, accepted, role="outcome"))
    drawn = cards_drawn(
        project=project, task=task, cards=cards, proposal=accepted or annotation.result
    )
    return MyAnswer(
        annotation=annotation,
        task=task,
        judgements=judgements,
        cards=drawn.cards,
        view=drawn.shared,
        answer_template=drawn.template,
    )


@dataclass
class DrawnCards:
    cards: list
    shared: dict
    template: str | None


def cards_drawn(*, project: Project, task: Task, cards: list, proposal: dict) -> DrawnCards:
    """Results side by side as the review screen draws answers: each card gets its kind's view
    (a transcript as a word diff against ``proposal``, boxes over the image) and summary."""
    kind = kinds.find(project.kind)
    shared: dict = {}
    if kind is not None:
        views = kind.review_views(
            results=[card.result for card in cards],
            proposal=proposal,
            data=task.data,
            media_meta=task.media_meta or {},
            schema=project.schema,
        )
        shared = views.shared
        for card, view in zip(cards, views.answers, strict=True):
            card.view = view
            card.summary = kind.review_summary(card.result, schema=project.schema)
    return DrawnCards(cards=cards, shared=shared, template=kind.review_template if kind else None)


def sent_back_note(*, assignment: Assignment) -> str:
    """What the work screen says above an answer a reviewer sent back to its author (the hook
    of ``annotation.events.assignment_notes``)."""
    judgement = (
        AnnotationReview.objects.filter(
            annotation__assignment_id=assignment.pk,
            judgement=AnswerJudgement.REJECTED,
            sent_back=True,
        )
        .select_related("review")
        .order_by("-pk")
        .first()
    )
    if judgement is None:
        return ""
    return (
        f"A reviewer sent this answer back to you to correct: “{judgement.review.comment}” "
        "Your answer is loaded: change what is wrong and submit it again."
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
    parts = gold_parts_by_contributor(project=project)
    if parts:
        views = [replace(v, gold_parts=parts.get(v.pc.user_id, {})) for v in views]
    key = sort.removeprefix("-")
    if key in SORT_KEYS:
        views.sort(key=SORT_KEYS[key], reverse=sort.startswith("-"))
    return views


GOLD_PARTS_WINDOW = 5000  # recent gold answers of the project


def gold_parts_by_contributor(*, project: Project) -> dict[int, dict[str, float]]:
    """Each contributor's mean of every part of the gold score (agent runs: the first error
    exact and within one step, the step ratings, the verdict), over the project's recent gold
    answers. One query, none for kinds that report no parts."""
    kind = kinds.find(project.kind)
    if kind is None or not kind.has_gold_parts:
        return {}
    rows = (
        Annotation.objects.filter(task__project=project, task__is_gold=True)
        .order_by("-pk")
        .values_list("contributor_id", "result", "task__gold")[:GOLD_PARTS_WINDOW]
    )
    sums: dict[int, dict[str, float]] = {}
    counts: dict[int, int] = {}
    for contributor_id, result, gold in rows:
        if not isinstance(gold, dict) or not isinstance(result, dict):
            continue
        totals = sums.setdefault(contributor_id, {})
        for name, value in kind.gold_parts(result, gold, schema=project.schema).items():
            totals[name] = totals.get(name, 0.0) + float(value)
        counts[contributor_id] = counts.get(contributor_id, 0) + 1
    return {
        person: {name: total / counts[person] for name, total in totals.items()}
        for person, totals in sums.items()
    }


@dataclass(frozen=True)
class ShareFigure:
    """The mean share of pairs of answers agreeing on one question, over recent tasks."""

    name: str
    share: float
    tasks: int


SHARES_WINDOW = 2000  # recent tasks with two or more answers, as for alpha


def _recent_answer_sets(*, project: Project, window: int) -> list[list[dict]]:
    """The counted answers of the project's ``window`` most recently judged tasks that two or more
    people answered, one list per task (in answer order): what agreement figures compare. Two
    queries."""
    task_ids = list(
        TaskOutcome.objects.filter(project=project, answers_used__gte=2)
        .order_by("-computed_at")
        .values_list("task_id", flat=True)[:window]
    )
    results: dict[int, list[dict]] = {}
    rows = (
        Annotation.objects.filter(task_id__in=task_ids)
        .exclude(quality_reviews__judgement__in=NOT_COUNTED)
        .values_list("task_id", "result")
        .order_by("task_id", "pk")
    )
    for task_id, result in rows:
        results.setdefault(task_id, []).append(result)
    return [answers for answers in results.values() if len(answers) >= 2]


def agreement_shares(*, project: Project) -> list[ShareFigure]:
    """Plain agreement shares the project's kind reports (agent runs: the share of pairs of
    answers naming the same first error), averaged over its recent multi-answer tasks. Two
    queries, none for kinds without shares."""
    kind = kinds.find(project.kind)
    if kind is None or not kind.has_agreement_shares:
        return []
    values: dict[str, list[float]] = {}
    for answers in _recent_answer_sets(project=project, window=SHARES_WINDOW):
        for name, share in kind.agreement_shares(answers, schema=project.schema).items():
            values.setdefault(name, []).append(float(share))
    return [ShareFigure(n, sum(v) / len(v), len(v)) for n, v in values.items()]


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
        .exclude(quality_reviews__judgement__in=NOT_COUNTED)
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
class PartAgreement:
    """How much the answers agree on one part of the work (a box label), over recent tasks."""

    name: str
    agreement: float
    tasks: int  # tasks with two or more answers where some answer has the part


PARTS_WINDOW = 300  # recent multi-answer tasks; every pair of answers is compared per part


def agreement_by_part(*, project: Project) -> list[PartAgreement]:
    """Mean agreement per part (boxes: per label) over the recent tasks answered by two or more
    people, in the schema's order of labels: which label the contributors read differently.
    Two queries, none for kinds without parts."""
    kind = kinds.find(project.kind)
    if kind is None or not kind.has_parts:
        return []
    quality = quality_with_defaults(project.quality)
    values: dict[str, list[float]] = {}
    for answers in _recent_answer_sets(project=project, window=PARTS_WINDOW):
        for name, parts in kind.agreement_parts(answers, schema=project.schema).items():
            score = kind.agreement(parts, schema=project.schema, quality=quality)
            values.setdefault(name, []).append(float(score))
    order = [label.get("name") for label in project.schema.get("labels", [])]
    names = sorted(values, key=lambda n: (order.index(n) if n in order else len(order), n))
    return [PartAgreement(n, sum(values[n]) / len(values[n]), len(values[n])) for n in names]


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
    parts: list[PartAgreement] = field(default_factory=list)
    shares: list[ShareFigure] = field(default_factory=list)

    @property
    def gold_part_names(self) -> list[str]:
        """The parts of the gold score some contributor has, in the kind's order."""
        return list(dict.fromkeys(name for s in self.standings for name in s.gold_parts))


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
        parts=agreement_by_part(project=project),
        shares=agreement_shares(project=project),
    )


@dataclass(frozen=True)
class MyWorkSummary:
    """The top of My work: the person's time, how quality checks and reviews judge them, in
    words. Quality checks count up to the end of yesterday: a figure that moved the moment a
    task was answered would tell which task was a check (the checks stay secret)."""

    answers: int
    active_seconds: int
    checks: int
    check_score: float | None
    check_interval: Interval | None
    accuracy_floor: float
    reviewed: int
    review_accepted: int
    checks_until: date

    @property
    def review_acceptance(self) -> float | None:
        return self.review_accepted / self.reviewed if self.reviewed else None

    @property
    def accuracy_figure(self) -> str:
        """ "88% (76–95%) over 40", or "—" with no checks counted yet."""
        if not self.checks:
            return "—"
        low, high = self.check_interval.low, self.check_interval.high
        return f"{percent(self.check_score)} ({percent(low)}–{percent(high)}) over {self.checks}"

    @property
    def active_time(self) -> str:
        """3725 → "1 h 2 min", 200 → "3 min 20 s", 45 → "45 s"."""
        hours, rest = divmod(self.active_seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        if hours:
            return f"{hours} h {minutes} min"
        if minutes:
            return f"{minutes} min {seconds} s"
        return f"{seconds} s"

    @property
    def accuracy_words(self) -> str:
        until = "up to yesterday"
        if not self.checks:
            return (
                f"No quality check of yours is counted yet ({until}). Some tasks are checks "
                "with a known answer, mixed in with the others."
            )
        low, high = self.check_interval.low, self.check_interval.high
        checks = plural(self.checks, "quality check")
        words = (
            f"Of your {checks} ({until}) you scored {percent(self.check_score)} on average; "
            f"with {percent(CHECK_CONFIDENCE)} confidence your true accuracy is between "
            f"{percent(low)} and {percent(high)}."
        )
        if self.accuracy_floor > 0:
            words += (
                " The project pauses people only when even the top of this range is under "
                f"{percent(self.accuracy_floor)}."
            )
        else:
            words += " The project does not pause anyone on accuracy."
        return words


# The two-sided 90% interval: its top is the one-sided 95% bound the accuracy-floor pause uses
# (``quality.stats.is_credibly_below``), so "even the top of this range" is the rule exactly.
CHECK_CONFIDENCE = 0.90


def my_work_summary(*, project: Project, user: AbstractBaseUser) -> MyWorkSummary:
    """Three queries: the person's answers (count, active time), their quality checks up to
    yesterday, their review counters."""
    today = timezone.localdate()
    since = timezone.make_aware(datetime.combine(today, time.min))
    mine = Annotation.objects.filter(task__project=project, contributor=user)
    figures = mine.aggregate(n=Count("pk"), seconds=Sum("active_seconds"))
    checked = mine.filter(gold_score__isnull=False, created_at__lt=since).aggregate(
        n=Count("pk"), score=Sum("gold_score")
    )
    standing = (
        ContributorStanding.objects.filter(contributor__project=project, contributor__user=user)
        .values_list("reviewed_count", "review_accepted_count")
        .first()
    ) or (0, 0)
    n = checked["n"]
    successes = min(float(checked["score"] or 0.0), float(n))
    quality = quality_with_defaults(project.quality)
    return MyWorkSummary(
        answers=figures["n"],
        active_seconds=figures["seconds"] or 0,
        checks=n,
        check_score=successes / n if n else None,
        check_interval=jeffreys_interval(successes, n, confidence=CHECK_CONFIDENCE) if n else None,
        accuracy_floor=float(quality["accuracy_floor"]),
        reviewed=standing[0],
        review_accepted=standing[1],
        checks_until=today,
    )
