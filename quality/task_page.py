"""One task for its managers, everything about it on one page (and in ``GET /api/v1/tasks/{id}/``).

The media with every answer drawn (boxes) or shown (rankings, transcripts) side by side, the gold
answer, the outcome, the reviews, the skips with their reasons and the task's history. Quality
owns the page because most of what it shows is quality's; the actions on it are the data
manager's (``annotation.bulk``), posted to the task list's bulk route.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

import kinds
from annotation.models import Annotation, Assignment, AssignmentStatus, Task
from annotation.selectors import skip_reason_label, tasks_with_figures
from labelhub.models import AuditEvent, Project
from labelhub.permissions import project_for
from quality.models import NOT_COUNTED, Review, TaskOutcome


@dataclass(frozen=True)
class Skip:
    contributor: str
    reason: str
    at: datetime | None


@dataclass(frozen=True)
class Event:
    at: datetime
    what: str
    who: str = ""


@dataclass
class Card:
    """One result shown on the page (an answer, the gold answer or the outcome), as the kind's
    review partial shows an answer: ``name``, ``view``, ``summary``, ``pretty``."""

    name: str
    result: dict
    view: dict = field(default_factory=dict)
    summary: str = ""
    role: str = "answer"  # "answer", "gold" or "outcome"
    annotation: Annotation | None = None
    rejected: bool = False

    @property
    def pretty(self) -> str:
        return json.dumps(self.result, indent=2, ensure_ascii=False)


@dataclass
class TaskPage:
    task: Task
    outcome: TaskOutcome | None
    cards: list[Card]
    reviews: list[Review]
    skips: list[Skip]
    history: list[Event]
    view: dict = field(default_factory=dict)  # what the kind's partial shares across cards
    answer_template: str | None = None

    @property
    def answers(self) -> list[Card]:
        return [card for card in self.cards if card.role == "answer"]


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "someone"


def task_skips(*, task: Task) -> list[Skip]:
    rows = (
        Assignment.objects.filter(task=task, status=AssignmentStatus.SKIPPED)
        .select_related("contributor")
        .order_by("finished_at", "pk")
    )
    return [
        Skip(a.contributor.get_username(), skip_reason_label(a.skip_reason), a.finished_at)
        for a in rows
    ]


def task_history(*, task: Task, project: Project) -> list[Event]:
    """What happened to the task, oldest first: leases, answers, skips, consolidation, reviews
    and the managers' actions on it (from the audit log)."""
    events = [Event(task.created_at, "Created (imported)")]
    for a in Assignment.objects.filter(task=task).select_related("contributor").order_by("pk"):
        who = a.contributor.get_username()
        events.append(Event(a.created_at, "Given to a contributor", who))
        if a.status == AssignmentStatus.SUBMITTED:
            events.append(Event(a.finished_at or a.updated_at, "Answered", who))
        elif a.status == AssignmentStatus.SKIPPED:
            reason = skip_reason_label(a.skip_reason)
            events.append(Event(a.finished_at or a.updated_at, f"Skipped: {reason}", who))
        elif a.status == AssignmentStatus.EXPIRED:
            events.append(Event(a.updated_at, "Lease ran out", who))
    outcome = TaskOutcome.objects.filter(task=task).first()
    if outcome is not None:
        words = "Consensus made" if outcome.is_consensus else "Single answer taken"
        events.append(Event(outcome.computed_at, f"{words} from {outcome.answers_used} answer(s)"))
        if outcome.accepted_at:
            events.append(Event(outcome.accepted_at, "Accepted"))
    for review in Review.objects.filter(task=task).select_related("reviewer"):
        comment = f": {review.comment}" if review.comment else ""
        verdict = f"Review: {review.get_verdict_display()}{comment}"
        events.append(Event(review.created_at, verdict, _name(review.reviewer)))
    recent = AuditEvent.objects.filter(project=project, action__startswith="tasks.").select_related(
        "actor"
    )[:500]
    for event in recent:
        if task.pk in (event.changes or {}).get("tasks", []):
            events.append(Event(event.created_at, event.get_action_display(), _name(event.actor)))
    return sorted(events, key=lambda event: event.at)


def task_page(*, project: Project, task_id: int) -> TaskPage:
    """Everything the task page shows; raises ``Task.DoesNotExist`` outside the project."""
    task = tasks_with_figures(project=project).get(pk=task_id)
    task.project = project
    outcome = TaskOutcome.objects.filter(task=task).first()
    rejected = set(
        task.annotations.filter(quality_reviews__judgement__in=NOT_COUNTED).values_list(
            "pk", flat=True
        )
    )
    cards: list[Card] = []
    if task.is_gold and task.gold:
        cards.append(Card("Gold answer", task.gold, role="gold"))
    if outcome is not None:
        accepted = outcome.accepted_result is not None
        label = "Accepted" if accepted else "Consensus" if outcome.is_consensus else "The answer"
        cards.append(Card(label, outcome.accepted_result or outcome.proposal, role="outcome"))
    for annotation in task.annotations.select_related("contributor").order_by("pk"):
        cards.append(
            Card(
                _name(annotation.contributor),
                annotation.result,
                annotation=annotation,
                rejected=annotation.pk in rejected,
            )
        )
    kind = kinds.find(project.kind)
    shared: dict = {}
    if kind is not None and cards:
        views = kind.review_views(
            results=[card.result for card in cards],
            proposal=outcome.proposal if outcome else None,
            data=task.data,
            media_meta=task.media_meta or {},
            schema=project.schema,
        )
        shared = views.shared
        for card, view in zip(cards, views.answers, strict=True):
            card.view = view
            card.summary = kind.review_summary(card.result, schema=project.schema)
    return TaskPage(
        task=task,
        outcome=outcome,
        cards=cards,
        reviews=list(Review.objects.filter(task=task).select_related("reviewer").order_by("pk")),
        skips=task_skips(task=task),
        history=task_history(task=task, project=project),
        view=shared,
        answer_template=kind.review_template if kind else None,
    )


@require_GET
@login_required
def task_page_view(request: HttpRequest, project_id: int, task_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    try:
        page = task_page(project=project, task_id=task_id)
    except Task.DoesNotExist:
        raise Http404("No such task.") from None
    return render(
        request,
        "quality/task_page.html",
        {"project": project, "item": page, "task": page.task},
    )
