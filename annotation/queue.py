"""The queue: which task a contributor gets next, leases, drafts, skips and submissions.

How the counters work
---------------------
Each task carries three numbers: ``overlap`` (answers wanted), ``answer_count`` (answers in) and
``lease_count`` (answers promised: leases handed out and not yet submitted, skipped or reclaimed).
A task still needs work while ``answer_count + lease_count < overlap``; the partial index
``task_queue_open`` holds exactly those open, non-gold tasks, ordered by priority then id, so the
claim never counts annotations and never walks past finished tasks. The check constraint
``task_never_over_assigned`` makes over-assignment impossible in the database itself.

Every counter moves with ``F()`` in the transaction that changes what it counts:

- claim: ``lease_count + 1``;
- submit on a live lease: ``lease_count - 1, answer_count + 1`` (status ``annotated`` once the
  overlap is reached, in the same UPDATE);
- skip on a live lease: ``lease_count - 1``;
- reclaim of an expired lease: ``lease_count - 1``.

Expiry without a cron job
-------------------------
A lease whose ``lease_expires_at`` has passed keeps holding its slot until a claim on the same
project reclaims it: every claim first takes up to ``RECLAIM_BATCH`` expired leases of the project
(``FOR UPDATE SKIP LOCKED`` on the partial index ``assignment_live_by_expiry``, so two claims never
reclaim the same lease and never wait for each other), marks them ``expired`` and gives their slots
back. When nothing has expired this is one index probe that finds no rows. The task then re-enters
``task_queue_open`` and is handed out in its priority order. A late submit on an ``expired``
lease is kept only if the task still has a free slot (checked and taken in one conditional
UPDATE); otherwise it is refused and the answer is kept as the assignment's draft.

Exactness
---------
On PostgreSQL a claim locks the candidate task with ``SELECT … FOR UPDATE SKIP LOCKED`` (others
move on to the next task instead of queueing behind it; PostgreSQL re-checks the slot condition on
the newest row version before locking). The contributor's ``ProjectContributor`` row is locked
first-come, so one person's two tabs claim one after the other: nobody holds two leases on a
project, and the "never assigned to this contributor" test (a NOT EXISTS probe on the unique index
``assignment_once_per_contributor``) sees their latest claim. On SQLite the settings open every
transaction with ``BEGIN IMMEDIATE``, so claims run one at a time and are exact too.
Lock order everywhere: assignments, then tasks, then the contributor row (claims reclaim leases
before taking their contributor row), so there is no deadlock cycle.

Gold and qualification
----------------------
Gold tasks (``Task.is_gold``) have no cap: every contributor may answer each gold task once, and
they never become ``annotated``. A contributor in qualification (the project asks for
``qualification_tasks`` > 0) gets only gold tasks until they have answered that many; their mean
score then makes them ``active`` (at or above ``qualification_min_score``) or ``disqualified``.
If the gold runs out first, the decision is made on what they answered; a project with no gold
at all waives qualification. Active contributors get a gold task with probability ``gold_rate``
(when one is left for them), else real work. Gold and real tasks go through the same code and the
same response: nothing in the payload, URL or timing tells them apart.
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from annotation.events import annotation_submitted
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    ContributorStatus,
    ProjectContributor,
    Task,
    TaskStatus,
)
from labelhub.models import Project
from labelhub.quality_bars import quality_with_defaults

RECLAIM_BATCH = 100
MAX_ACTIVE_SECONDS = 24 * 3600
_gold_dice = random.SystemRandom()


class QueueRefusal(Exception):
    """The queue says no, with a message for the person (not an error) that API and pages show."""

    code = "refused"
    status = 403

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ContributorPaused(QueueRefusal):
    code = "paused"


class ContributorDisqualified(QueueRefusal):
    code = "disqualified"


class QualificationUnavailable(QueueRefusal):
    code = "qualification_unavailable"


class AssignmentClosed(QueueRefusal):
    """The assignment was skipped (or already submitted) and cannot take this action."""

    code = "assignment_closed"
    status = 409


class LeaseLost(QueueRefusal):
    """A late submit on an expired lease whose task no longer needs an answer."""

    code = "lease_expired"
    status = 409


class DraftConflict(QueueRefusal):
    code = "conflict"
    status = 409

    def __init__(self, message: str, *, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


def open_task_filter() -> Q:
    """Tasks that still need answers: exactly the condition of the partial index."""
    return Q(status=TaskStatus.OPEN, is_gold=False) & Q(
        lease_count__lt=F("overlap") - F("answer_count")
    )


def _never_assigned_to(contributor: AbstractBaseUser) -> Exists:
    return Exists(Assignment.objects.filter(task=OuterRef("pk"), contributor=contributor))


def _reclaim_expired_leases(*, project: Project, now) -> int:
    """Give back the slots of leases whose time is up; return how many were reclaimed.

    Caller holds nothing yet (this runs first in a claim); takes row locks on the leases.
    """
    expired = list(
        Assignment.objects.filter(
            project=project, status=AssignmentStatus.ACTIVE, lease_expires_at__lte=now
        )
        .order_by("lease_expires_at")
        .select_for_update(skip_locked=True)
        .values_list("pk", "task_id")[:RECLAIM_BATCH]
    )
    if not expired:
        return 0
    Assignment.objects.filter(pk__in=[pk for pk, _ in expired]).update(
        status=AssignmentStatus.EXPIRED, updated_at=now
    )
    per_task = Counter(task_id for _, task_id in expired)
    by_count: dict[int, list[int]] = {}
    for task_id, n in per_task.items():
        by_count.setdefault(n, []).append(task_id)
    for n, task_ids in by_count.items():
        # Gold tasks never counted their leases.
        Task.objects.filter(pk__in=task_ids, is_gold=False).update(lease_count=F("lease_count") - n)
    return len(expired)


def _contributor_locked(
    *, project: Project, contributor: AbstractBaseUser, quality: dict, now
) -> ProjectContributor:
    """The contributor's row on the project, locked; created on their first claim.

    ``live_lease_id`` carries the id of their live lease on the project, if any, read in the
    same query.
    """
    live = Assignment.objects.filter(
        project=project,
        contributor=contributor,
        status=AssignmentStatus.ACTIVE,
        lease_expires_at__gt=now,
    ).values("pk")[:1]
    locked = ProjectContributor.objects.select_for_update(of=("self",)).annotate(
        live_lease_id=Subquery(live)
    )
    pc = locked.filter(project=project, user=contributor).first()
    if pc is not None:
        return pc
    status = (
        ContributorStatus.QUALIFYING
        if quality["qualification_tasks"] > 0
        else ContributorStatus.ACTIVE
    )
    try:
        with transaction.atomic():
            pc = ProjectContributor.objects.create(project=project, user=contributor, status=status)
    except IntegrityError:  # the same person's other tab created it first
        return locked.get(project=project, user=contributor)
    pc.live_lease_id = None  # a new contributor holds no lease
    return pc


def _qualification_decide(*, pc: ProjectContributor, quality: dict) -> None:
    """Turn a qualifying contributor active or disqualified on their mean gold score."""
    mean = pc.gold_mean_score or 0.0
    bar = float(quality["qualification_min_score"])
    if mean >= bar:
        pc.status, pc.pause_reason = ContributorStatus.ACTIVE, ""
    else:
        pc.status = ContributorStatus.DISQUALIFIED
        pc.pause_reason = (
            f"Your qualification score was {mean:.0%}; this project asks for {bar:.0%}."
        )
    pc.save(update_fields=["status", "pause_reason", "updated_at"])


def _refusal_for(pc: ProjectContributor) -> QueueRefusal | None:
    if pc.status == ContributorStatus.PAUSED:
        return ContributorPaused(
            "Your work on this project is paused"
            + (f": {pc.pause_reason}" if pc.pause_reason else ".")
            + " A manager can resume it."
        )
    if pc.status == ContributorStatus.DISQUALIFIED:
        return ContributorDisqualified(
            pc.pause_reason or "You did not pass the qualification for this project."
        )
    return None


def _next_gold(*, project: Project, contributor: AbstractBaseUser) -> Task | None:
    return (
        Task.objects.filter(project=project, is_gold=True)
        .filter(~_never_assigned_to(contributor))
        .order_by("-priority", "id")
        .first()
    )


def _next_open(*, project: Project, contributor: AbstractBaseUser) -> Task | None:
    return (
        Task.objects.filter(open_task_filter(), project=project)
        .filter(~_never_assigned_to(contributor))
        .order_by("-priority", "id")
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )


def assignment_claim_next(*, project: Project, contributor: AbstractBaseUser) -> Assignment | None:
    """The contributor's lease on their next task, or None when there is no work for them.

    Returns their live lease if they hold one (a reload shows the same task and its draft).
    Raises a :class:`QueueRefusal` when they may not work (paused, disqualified, waiting for
    qualification tasks). Call from a POST only: it writes.
    """
    quality = quality_with_defaults(project.quality)
    now = timezone.now()
    with transaction.atomic(durable=True):
        outcome = _claim(project=project, contributor=contributor, quality=quality, now=now)
    # Refusals are raised after the commit, so that a decision taken on the way (a finished
    # qualification) is kept.
    if isinstance(outcome, QueueRefusal):
        raise outcome
    return outcome


def _claim(
    *, project: Project, contributor: AbstractBaseUser, quality: dict, now
) -> Assignment | QueueRefusal | None:
    _reclaim_expired_leases(project=project, now=now)
    pc = _contributor_locked(project=project, contributor=contributor, quality=quality, now=now)
    if refusal := _refusal_for(pc):
        return refusal
    if pc.live_lease_id is not None:
        return Assignment.objects.select_related("task").get(pk=pc.live_lease_id)

    task = None
    if pc.status == ContributorStatus.QUALIFYING:
        task = _next_gold(project=project, contributor=contributor)
        if task is None:
            if pc.gold_answered_count:
                _qualification_decide(pc=pc, quality=quality)
                if refusal := _refusal_for(pc):
                    return refusal
            elif not Task.objects.filter(project=project, is_gold=True).exists():
                pc.status = ContributorStatus.ACTIVE  # no gold at all: nothing to qualify on
                pc.save(update_fields=["status", "updated_at"])
            else:
                return QualificationUnavailable(
                    "There are no qualification tasks left for you on this project. "
                    "Ask a manager to add more."
                )
    else:
        rate = float(quality["gold_rate"])
        if rate > 0 and _gold_dice.random() < rate:
            task = _next_gold(project=project, contributor=contributor)

    if task is None:
        task = _next_open(project=project, contributor=contributor)
        if task is None:
            return None
        Task.objects.filter(pk=task.pk).update(lease_count=F("lease_count") + 1)
        task.lease_count += 1

    return Assignment.objects.create(
        task=task,
        contributor=contributor,
        project=project,
        lease_expires_at=now + timedelta(minutes=float(quality["lease_minutes"])),
    )


def _assignment_locked(*, assignment_id: int, contributor: AbstractBaseUser) -> Assignment:
    """The contributor's own assignment, locked (with its task and project).

    Raises ``Assignment.DoesNotExist`` for anyone else's: callers answer 404.
    """
    return (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("task", "project")
        .get(pk=assignment_id, contributor=contributor)
    )


@dataclass(frozen=True)
class Submission:
    annotation: Annotation
    created: bool


def annotation_submit(
    *,
    assignment_id: int,
    contributor: AbstractBaseUser,
    result: dict,
    active_seconds: int = 0,
) -> Submission:
    """Store the contributor's answer for their assignment, once.

    Validates with the project's task kind (raises ``ValidationError`` with path keys). A second
    submit of the same assignment returns the first annotation unchanged. A late submit on a
    reclaimed lease is kept while the task still has a free slot, else refused with
    :class:`LeaseLost` (the answer is kept as the draft).
    """
    now = timezone.now()
    seconds = max(0, min(int(active_seconds), MAX_ACTIVE_SECONDS))
    refused = False
    with transaction.atomic(durable=True):
        assignment = _assignment_locked(assignment_id=assignment_id, contributor=contributor)
        if assignment.status == AssignmentStatus.SUBMITTED:
            return Submission(annotation=assignment.annotation, created=False)
        if assignment.status == AssignmentStatus.SKIPPED:
            raise AssignmentClosed("You skipped this task, so it cannot be submitted.")
        task, project = assignment.task, assignment.project
        kind = project.task_kind
        cleaned = kind.clean_result(result, schema=project.schema, data=task.data)

        done_now = Case(
            When(answer_count__gte=F("overlap") - 1, then=Value(TaskStatus.ANNOTATED)),
            default=F("status"),
        )
        if task.is_gold:
            Task.objects.filter(pk=task.pk).update(answer_count=F("answer_count") + 1)
        elif assignment.status == AssignmentStatus.ACTIVE:
            # The slot is still ours (even if the time is up and nobody reclaimed it yet).
            Task.objects.filter(pk=task.pk).update(
                lease_count=F("lease_count") - 1,
                answer_count=F("answer_count") + 1,
                status=done_now,
            )
        else:
            # Reclaimed: take a free slot if there is one, in one conditional UPDATE.
            refused = not Task.objects.filter(open_task_filter(), pk=task.pk).update(
                answer_count=F("answer_count") + 1, status=done_now
            )

        if refused:
            assignment.draft, assignment.draft_saved_at = cleaned, now
            assignment.version += 1
            assignment.save(update_fields=["draft", "draft_saved_at", "version", "updated_at"])
        else:
            gold_score = None
            if task.is_gold:
                quality = quality_with_defaults(project.quality)
                gold_score = float(
                    kind.score(cleaned, task.gold, schema=project.schema, quality=quality)
                )
            annotation = Annotation.objects.create(
                task=task,
                contributor=contributor,
                assignment=assignment,
                result=cleaned,
                active_seconds=seconds,
                gold_score=gold_score,
            )
            assignment.status = AssignmentStatus.SUBMITTED
            assignment.finished_at = now
            assignment.active_seconds = seconds
            assignment.save(update_fields=["status", "finished_at", "active_seconds", "updated_at"])
            if gold_score is not None:
                _record_gold_score(project=project, contributor=contributor, score=gold_score)
            annotation_submitted(annotation_id=annotation.pk)
    if refused:
        raise LeaseLost(
            "Your time on this task ran out and others have answered it meanwhile, so this "
            "answer was not counted. It is kept as your draft."
        )
    return Submission(annotation=annotation, created=True)


def _record_gold_score(*, project: Project, contributor: AbstractBaseUser, score: float) -> None:
    """Add one gold score to the contributor's record; decide qualification when it is complete.

    Caller holds the assignment and task locks (lock order: the contributor row comes last).
    """
    ProjectContributor.objects.filter(project=project, user=contributor).update(
        gold_answered_count=F("gold_answered_count") + 1,
        gold_score_sum=F("gold_score_sum") + score,
        updated_at=timezone.now(),
    )
    quality = quality_with_defaults(project.quality)
    pc = ProjectContributor.objects.filter(project=project, user=contributor).first()
    if (
        pc is not None
        and pc.status == ContributorStatus.QUALIFYING
        and pc.gold_answered_count >= int(quality["qualification_tasks"])
    ):
        _qualification_decide(pc=pc, quality=quality)


def assignment_skip(
    *, assignment_id: int, contributor: AbstractBaseUser, reason: str = ""
) -> Assignment:
    """Give the task back for others. Never counts against the contributor; they will not get
    this task again. Skipping twice is harmless; skipping a submitted task is refused."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        assignment = _assignment_locked(assignment_id=assignment_id, contributor=contributor)
        if assignment.status == AssignmentStatus.SKIPPED:
            return assignment
        if assignment.status == AssignmentStatus.SUBMITTED:
            raise AssignmentClosed("This task is already submitted.")
        if assignment.status == AssignmentStatus.ACTIVE and not assignment.task.is_gold:
            Task.objects.filter(pk=assignment.task_id).update(lease_count=F("lease_count") - 1)
        assignment.status = AssignmentStatus.SKIPPED
        assignment.skip_reason = reason[:500]
        assignment.finished_at = now
        assignment.save(update_fields=["status", "skip_reason", "finished_at", "updated_at"])
    return assignment


def assignment_save_draft(
    *,
    assignment_id: int,
    contributor: AbstractBaseUser,
    result: dict,
    version: int | None = None,
) -> Assignment:
    """Save the contributor's work in progress; it comes back when they reload.

    The row is locked for the check. With ``version``, the save only lands if nobody saved since
    that version (else :class:`DraftConflict`); without it, the last save wins. A save on a live
    lease renews the lease (the person is working). Drafts are not validated: work in progress
    may be partial.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("project")
            .get(pk=assignment_id, contributor=contributor)
        )
        if assignment.status not in (AssignmentStatus.ACTIVE, AssignmentStatus.EXPIRED):
            raise AssignmentClosed("This task is finished; its draft can no longer change.")
        quality = quality_with_defaults(assignment.project.quality)
        expires = assignment.lease_expires_at
        if assignment.status == AssignmentStatus.ACTIVE and expires > now:
            expires = now + timedelta(minutes=float(quality["lease_minutes"]))
        if version is not None and version != assignment.version:
            raise DraftConflict(
                "This draft was changed elsewhere since you loaded it. Reload to see the latest.",
                current_version=assignment.version,
            )
        assignment.draft, assignment.draft_saved_at = result, now
        assignment.version += 1
        assignment.lease_expires_at = expires
        assignment.save(
            update_fields=["draft", "draft_saved_at", "version", "lease_expires_at", "updated_at"]
        )
    return assignment
