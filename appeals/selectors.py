"""Appeal reads: the queue of a project's appeals, one appeal with its cards, a person's own.

Each is a fixed number of queries whatever the number of appeals.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from annotation.models import Task
from appeals.models import Appeal, AppealStatus, AppealSubject
from labelhub.content import tasks_not_opted_out
from labelhub.models import Project, ProjectMember, Role
from quality.models import TaskOutcome
from quality.selectors import cards_drawn
from quality.task_page import Card

QUEUE_LIMIT = 200


def _with_relations(appeals: QuerySet) -> QuerySet:
    return appeals.select_related(
        "project",
        "contributor",
        "decided_by",
        "rejection__review__reviewer",
        "rejection__annotation",
    )


def _for_reviewer(appeals: QuerySet, *, project: Project, reviewer: AbstractBaseUser | None):
    """What a reviewer who is not a manager (``reviewer``; None for managers) may hear: appeals
    of rejections only (pauses are a manager's), of tasks whose content they did not opt out of
    (reviewers have the same opt-outs as contributors). A subquery, no extra query."""
    if reviewer is None:
        return appeals
    shown = tasks_not_opted_out(
        Task.objects.filter(project=project), project=project, user=reviewer
    ).values("pk")
    return appeals.filter(subject=AppealSubject.REJECTION, rejection__annotation__task__in=shown)


def appeals_queue(*, project: Project, reviewer: AbstractBaseUser | None = None) -> list[Appeal]:
    """The project's appeals, open first (oldest first: first come, first heard), then the
    decided ones (latest first); to a reviewer who is not a manager, those of
    :func:`_for_reviewer`. One query."""
    appeals = Appeal.objects.filter(project=project)
    appeals = _for_reviewer(appeals, project=project, reviewer=reviewer)
    order = Case(
        When(status=AppealStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    rows = list(
        _with_relations(appeals).order_by(order, "-decided_at", "filed_at", "pk")[:QUEUE_LIMIT]
    )
    return rows


def appeals_open_count(*, project: Project, reviewer: AbstractBaseUser | None = None) -> int:
    appeals = _for_reviewer(
        Appeal.objects.filter(project=project, status=AppealStatus.OPEN),
        project=project,
        reviewer=reviewer,
    )
    return appeals.count()


def appeals_of(*, project: Project, user: AbstractBaseUser) -> list[Appeal]:
    """The person's own appeals on the project, newest first. One query."""
    return list(
        _with_relations(Appeal.objects.filter(project=project, contributor=user)).order_by(
            "-filed_at", "-pk"
        )
    )


def appeals_visible(*, user: AbstractBaseUser) -> QuerySet:
    """Every appeal ``user`` may read: their own, and those of the projects they manage (all)
    or review (rejections)."""
    managed = ProjectMember.objects.filter(user_id=user.pk, role=Role.MANAGER).values("project_id")
    reviewed = ProjectMember.objects.filter(user_id=user.pk, role=Role.REVIEWER).values(
        "project_id"
    )
    return _with_relations(
        Appeal.objects.filter(
            Q(contributor_id=user.pk)
            | Q(project_id__in=managed)
            | Q(project_id__in=reviewed, subject=AppealSubject.REJECTION)
        )
    )


@dataclass
class AppealPage:
    """One appeal as the deciders see it: the answer beside the accepted one (or the task's
    current result) and the reviewer's words, the contributor's words."""

    appeal: Appeal
    cards: list = field(default_factory=list)
    view: dict = field(default_factory=dict)
    answer_template: str | None = None
    task_status: str = ""


def appeal_page(
    *, project: Project, appeal_id: int, reviewer: AbstractBaseUser | None = None
) -> AppealPage:
    """Raises ``Appeal.DoesNotExist`` outside the project, or to a reviewer who is not a
    manager for what :func:`_for_reviewer` keeps from them."""
    appeals = Appeal.objects.filter(project=project)
    appeals = _for_reviewer(appeals, project=project, reviewer=reviewer)
    appeal = _with_relations(appeals.select_related("rejection__annotation__task")).get(
        pk=appeal_id
    )
    page = AppealPage(appeal=appeal)
    if appeal.subject != AppealSubject.REJECTION:
        return page
    judgement = appeal.rejection
    annotation = judgement.annotation
    task = annotation.task
    task.project = project
    rejected = judgement.result if judgement.result is not None else annotation.result
    cards = [Card("The answer as it was rejected", rejected, rejected=True)]
    outcome = (
        TaskOutcome.objects.filter(task=task)
        .values_list("accepted_result", "proposal", "is_consensus")
        .first()
    )
    other = None
    if outcome is not None:
        accepted_result, proposal, is_consensus = outcome
        other = accepted_result or proposal
        if accepted_result:
            name = "The accepted answer"
        elif is_consensus:
            name = "The consensus of the task's answers"
        else:
            name = "The answer the task holds now"
        # With one answer per task the task may still hold the rejected answer itself: it is
        # not a second opinion, so it is not shown as one.
        if other != rejected:
            cards.append(Card(name, other, role="outcome"))
        else:
            other = None
    drawn = cards_drawn(project=project, task=task, cards=cards, proposal=other or rejected)
    page.cards, page.view, page.answer_template = drawn.cards, drawn.shared, drawn.template
    page.task_status = task.get_status_display()
    return page
