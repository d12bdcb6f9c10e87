"""The queue: which task a contributor gets next, leases, drafts, skips and submissions.

How the counters work
---------------------
Each task carries three numbers: ``overlap`` (answers wanted), ``answer_count`` (answers in) and
``lease_count`` (answers promised: leases handed out and not yet submitted, skipped or reclaimed).
A task still needs work while ``answer_count + lease_count < overlap``; the partial index
``task_queue_ranked`` holds exactly those open, non-gold tasks, ordered by priority, then
``queue_rank`` (the project's ``queue_order``: 0 for all in priority order, the model's score for
lowest-score-first, a random number for random), then id, so the claim never counts annotations,
never sorts and never walks past finished tasks, whatever the order. The check constraint
``task_never_over_assigned`` makes over-assignment impossible in the database itself.

Every counter moves with ``F()`` in the transaction that changes what it counts:

- claim: ``lease_count + 1``;
- submit on a live lease: ``lease_count - 1, answer_count + 1`` (status ``annotated`` once the
  overlap is reached, in the same UPDATE);
- skip on a live lease: ``lease_count - 1``;
- reclaim of an expired lease: ``lease_count - 1``;
- release of a person's live leases when they leave the organization (:func:`leases_release`):
  ``lease_count - 1`` each, the lease and its draft deleted.

Outside this module, each in its own transaction with the task row locked:

- a model's lease (``backends.services._lease_for_model``): ``lease_count + 1``, as a claim;
- a rejected answer sent back to its author (``quality.services._review_reject``, through
  ``_send_back``): ``lease_count + n`` for the n answers sent back, their authors' leases live
  again;
- a rejection reversed on appeal (``quality.services.rejection_reverse``): ``lease_count - 1``
  when the author's sent-back lease was still live (its slot becomes the answer);
- the data manager (``annotation.bulk``): marking gold sets ``lease_count = 0`` (gold takes no
  slot); unmarking gold and requeueing set it to the task's live leases, counted under the lock.

Imports create tasks with ``lease_count = 0``. Nothing else writes it.

Expiry without a cron job
-------------------------
A lease whose ``lease_expires_at`` has passed keeps holding its slot until a claim on the same
project reclaims it: every claim first takes up to ``RECLAIM_BATCH`` expired leases of the project
(``FOR UPDATE SKIP LOCKED`` on the partial index ``assignment_live_by_expiry``, so two claims never
reclaim the same lease and never wait for each other), marks them ``expired`` and gives their slots
back. When nothing has expired this is one index probe that finds no rows. The task then re-enters
``task_queue_ranked`` and is handed out in the project's order. A late submit on an ``expired``
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
before taking their contributor row), so there is no deadlock cycle. The one exception is the
claim's candidate task, locked after the contributor row: it is taken with ``SKIP LOCKED``, which
never waits, so it cannot close a cycle either.

Cost
----
On PostgreSQL a steady-state claim is three statements (reclaim probe, contributor lock with
their live lease, then one statement that picks the task, takes its slot and inserts the lease)
and a submit two (the locked assignment, then one statement that counts the answer, stores it and
closes the assignment); SQLite runs the same steps as five and four. The statements that run on
every call are written out in :mod:`annotation.queue_sql`, because building them with the ORM costs
more than running them. On PostgreSQL a claim and a draft save do not wait for the disk on
commit (``synchronous_commit`` off for that transaction): a database crash may forget the last
fraction of a second of leases, which only puts tasks back in the queue. Submissions wait.
The candidate walk passes over tasks this contributor already holds an answer on while they are
still open; that is a handful when several people share a project, but a person labelling a
project with overlap > 1 alone walks past all their own open answers.

The plan depends on fresh statistics: a big import runs ``ANALYZE`` on the task table once it
has committed (``annotation.imports.ANALYZE_AFTER``), so that PostgreSQL walks the partial index
instead of sorting every task of a project it believes to be tiny; autovacuum does the same for
smaller changes within a minute or so.

Every service here opens the outermost transaction (``durable=True``): call them from a view
without ``ATOMIC_REQUESTS``.

Gold and qualification
----------------------
Gold tasks (``Task.is_gold``) have no cap: every contributor may answer each gold task once, and
they never become ``annotated``. A contributor in qualification (the project asks for
``qualification_tasks`` > 0) gets only gold tasks until they have answered that many; their mean
score then makes them ``active`` (at or above ``qualification_min_score``) or ``disqualified``.
If the gold runs out first, the decision is made on what they answered; a project with no gold
at all waives qualification. Active contributors get a gold task with probability ``gold_rate``
(when one is left for them), else real work. Gold and real tasks go through the same code and
the same response: nothing in the payload or URL tells them apart, and the gold lookup is the
same shape of statement as the real one (one statement that finds the task and inserts the
lease); a real claim's also updates ``lease_count`` of that one row, a fraction of a millisecond,
far inside the network's jitter.
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

import kinds
from annotation import queue_sql as sql
from annotation.events import annotation_revised, annotation_submitted, result_refusal
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    ContributorStatus,
    ProjectContributor,
    Task,
    TaskStatus,
)
from annotation.sensitive import sensitive_work_record
from labelhub.content import ALL_CATEGORIES, categories_of, labels_of
from labelhub.models import Project
from labelhub.quality_bars import quality_with_defaults
from labelhub.refusals import Refusal

RECLAIM_BATCH = 100
MAX_ACTIVE_SECONDS = 24 * 3600
_gold_dice = random.SystemRandom()


class QueueRefusal(Refusal):
    """The queue says no, with a message for the person (not an error) that API and pages show."""

    code = "refused"
    status = 403


class ContributorPaused(QueueRefusal):
    code = "paused"


class ContributorDisqualified(QueueRefusal):
    code = "disqualified"


class QualificationUnavailable(QueueRefusal):
    code = "qualification_unavailable"


class ContentOptedOut(QueueRefusal):
    """The whole project carries a content category the person chose not to be shown."""

    code = "content_opted_out"


class SensitiveLimitReached(QueueRefusal):
    """The person reached today's cap of sensitive work and the whole project is sensitive."""

    code = "sensitive_limit_reached"


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

    def as_dict(self) -> dict:
        return {**super().as_dict(), "current_version": self.current_version}


def open_task_filter() -> Q:
    """Tasks that still need answers: exactly the condition of the partial index."""
    return Q(status=TaskStatus.OPEN, is_gold=False) & Q(
        lease_count__lt=F("overlap") - F("answer_count")
    )


def _leases_reclaim(expired: list[tuple[int, int]], *, now) -> None:
    """Give back the slots of these expired leases (``(id, task id)``, locked by the caller)."""
    if not expired:
        return
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


def leases_release(*, contributor_id: int, project_ids: list[int]) -> int:
    """Give back the slots of a person's live leases on these projects (they leave the
    organization); the leases and their drafts go. Returns how many there were.

    Caller holds a transaction; takes row locks on the leases.
    """
    leases = list(
        Assignment.objects.select_for_update()
        .filter(
            project_id__in=project_ids,
            contributor_id=contributor_id,
            status=AssignmentStatus.ACTIVE,
        )
        .values_list("pk", "task_id")
    )
    if not leases:
        return 0
    task_ids = [task_id for _, task_id in leases]
    # Gold tasks never counted their leases (as the reclaim above).
    Task.objects.filter(pk__in=task_ids, is_gold=False).update(lease_count=F("lease_count") - 1)
    Assignment.objects.filter(pk__in=[pk for pk, _ in leases]).delete()
    return len(leases)


def _claim_start(
    *, project: Project, contributor: AbstractBaseUser, quality: dict, now
) -> ProjectContributor:
    """A claim's first step: the contributor's row on the project, locked (created on their
    first claim), after the project's expired leases are reclaimed.

    One statement on PostgreSQL in the usual case (:func:`queue_sql.claim_start`, which also
    relaxes the claim's commit); ``live_lease_id`` carries the id of their live lease on the
    project, if any, read in the same statement.
    """
    started = sql.claim_start(
        project_id=project.pk,
        organization_id=project.organization_id,
        user_id=contributor.pk,
        now=now,
        reclaim=RECLAIM_BATCH,
    )
    if started is not None:
        _leases_reclaim(started.expired, now=now)
        return started.contributor
    # Their first claim here: reclaim apart, then make their row and lock it.
    _leases_reclaim(
        sql.expired_leases(project_id=project.pk, now=now, limit=RECLAIM_BATCH, relax=True),
        now=now,
    )
    locked = partial(
        sql.contributor_locked,
        project_id=project.pk,
        organization_id=project.organization_id,
        user_id=contributor.pk,
        now=now,
    )
    status = (
        ContributorStatus.QUALIFYING
        if quality["qualification_tasks"] > 0
        else ContributorStatus.ACTIVE
    )
    try:
        with transaction.atomic():
            ProjectContributor.objects.create(project=project, user=contributor, status=status)
    except IntegrityError:  # the same person's other tab created it first
        pass
    return locked()  # their row now exists: read it as every later claim will


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
    pc = _claim_start(project=project, contributor=contributor, quality=quality, now=now)
    if refusal := _refusal_for(pc):
        return refusal
    if pc.live_lease_id is not None:
        return Assignment.objects.select_related("task").get(pk=pc.live_lease_id)
    exclude = content_excluded(pc=pc, now=now)
    if exclude and project.content_flags & exclude:
        return _content_refusal(project=project, pc=pc, now=now)

    lease = partial(
        sql.lease_next_task,
        project_id=project.pk,
        contributor=contributor,
        expires=now + timedelta(minutes=float(quality["lease_minutes"])),
        now=now,
        exclude=exclude,
    )
    if exclude and not project.task_content_flags & ~exclude:
        # Every category the tasks carry is one this person is kept from: only unmarked tasks
        # can be theirs, found without walking past the marked ones. A task marked outside the
        # import (the union then misses its bits) is still found by the full walk below, once
        # the unmarked ones are gone: the order may differ, what the person is shown never does.
        lease = partial(_unmarked_first, lease)
    if pc.status == ContributorStatus.QUALIFYING:
        if assignment := lease(gold=True):
            return assignment
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
        if rate > 0 and _gold_dice.random() < rate and (assignment := lease(gold=True)):
            return assignment
    return lease(gold=False)


def _unmarked_first(lease, *, gold: bool) -> Assignment | None:
    """The lease on the first unmarked task in the queue, else the walk over all of them."""
    return (not gold and lease(gold=False, unmarked=True)) or lease(gold=gold)


def content_excluded(*, pc: ProjectContributor, now) -> int:
    """The content bits the queue keeps from this person now: their opt-outs, or every category
    while they are over today's cap of sensitive work."""
    paused = pc.sensitive_paused_until
    if paused is not None and paused > now:
        return ALL_CATEGORIES
    return pc.content_opt_outs


def _content_refusal(*, project: Project, pc: ProjectContributor, now) -> QueueRefusal:
    paused = pc.sensitive_paused_until
    if paused is not None and paused > now and project.content_flags & ~pc.content_opt_outs:
        return SensitiveLimitReached(
            "You have reached today's limit of time on sensitive content, and this project's "
            "content is sensitive. It is open to you again tomorrow; other projects may have "
            "work meanwhile."
        )
    names = labels_of(
        project.content_flags & pc.content_opt_outs, categories_of(project.organization_id)
    )
    return ContentOptedOut(
        "This project's content is marked "
        + ", ".join(name.lower() for name in names)
        + ", which you chose not to be shown. You can change that on your profile."
    )


def _assignment_locked(*, assignment_id: int, contributor: AbstractBaseUser) -> Assignment:
    """The contributor's own assignment, locked (with its project; its task loads by its key
    when asked for: joined, a planner whose statistics lag a new project walked the whole task
    table's key, as in :func:`queue_sql.assignment_locked_for_submit`).

    Raises ``Assignment.DoesNotExist`` for anyone else's: callers answer 404.
    """
    return (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("project")
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
    :class:`LeaseLost` (the answer is kept as the draft). On an assignment given back after it
    was submitted (a reviewer sent the answer back to its author) the submit is the correction:
    it replaces that answer (:func:`_annotation_revise`).

    The steps, in one transaction: lock the assignment with what the submit needs
    (:func:`queue_sql.assignment_locked_for_submit`), validate the answer, take the task's slot
    (:func:`_submit_slot_taken`), store the answer (:func:`_submit_store`), count sensitive work.
    """
    now = timezone.now()
    seconds = max(0, min(int(active_seconds), MAX_ACTIVE_SECONDS))
    with transaction.atomic(durable=True):
        row = sql.assignment_locked_for_submit(assignment_id=assignment_id, user_id=contributor.pk)
        if row is None:
            raise Assignment.DoesNotExist("No such assignment.")
        if row.status == AssignmentStatus.SUBMITTED:
            return Submission(
                annotation=Annotation.objects.get(assignment_id=assignment_id), created=False
            )
        if row.status == AssignmentStatus.SKIPPED:
            raise AssignmentClosed("You skipped this task, so it cannot be submitted.")
        schema, data = sql.json_out(row.schema), sql.json_out(row.data)
        kind = kinds.get(row.kind)
        cleaned = kind.clean_result(
            result, schema=schema, data=kind.answer_data(data=data, result=result)
        )
        if refusal := result_refusal(project_id=row.project_id, kind=kind, result=cleaned):
            raise ValidationError({"proof": [refusal]})
        refused = not _submit_slot_taken(row)
        if refused:
            Assignment.objects.filter(pk=assignment_id).update(
                draft=cleaned, draft_saved_at=now, version=F("version") + 1, updated_at=now
            )
        else:
            annotation = _submit_store(
                row,
                assignment_id=assignment_id,
                contributor=contributor,
                kind=kind,
                schema=schema,
                result=cleaned,
                seconds=seconds,
                now=now,
            )
            if row.content_flags:
                # Only sensitive work is counted: a plain task's submit adds nothing here.
                sensitive_work_record(
                    organization_id=row.organization_id,
                    user_id=contributor.pk,
                    seconds=seconds,
                    now=now,
                    time_zone=row.time_zone,
                    cap=row.sensitive_cap,
                )
    if refused:
        raise LeaseLost(
            "Your time on this task ran out and others have answered it meanwhile, so this "
            "answer was not counted. It is kept as your draft."
        )
    return Submission(annotation=annotation, created=True)


def _submit_slot_taken(row: sql.SubmitRow) -> bool:
    """Whether the answer has its slot on the task: a live lease holds one (it turns into the
    answer when it is stored); a gold answer counts apart; a reclaimed lease takes a free slot if
    there is one, in one conditional UPDATE. The caller holds the assignment's lock."""
    if row.is_gold:
        Task.objects.filter(pk=row.task_id).update(answer_count=F("answer_count") + 1)
        return True
    if row.status == AssignmentStatus.ACTIVE:
        return True
    return bool(
        Task.objects.filter(open_task_filter(), pk=row.task_id).update(
            answer_count=F("answer_count") + 1,
            status=Case(
                When(answer_count__gte=F("overlap") - 1, then=Value(TaskStatus.ANNOTATED)),
                default=F("status"),
            ),
        )
    )


def _submit_store(
    row: sql.SubmitRow,
    *,
    assignment_id: int,
    contributor: AbstractBaseUser,
    kind: kinds.TaskKind,
    schema: dict,
    result: dict,
    seconds: int,
    now,
) -> Annotation:
    """Store the answer (a correction replaces the answer sent back), score a gold answer, and
    fire :data:`annotation.events.submitted`."""
    live = row.status == AssignmentStatus.ACTIVE
    if row.finished_at is not None and not row.is_gold:  # finished once, then given back
        annotation = _annotation_revise(
            assignment_id=assignment_id,
            task_id=row.task_id,
            result=result,
            seconds=seconds,
            now=now,
            live_slot=live,
        )
    else:
        quality = quality_with_defaults(sql.json_out(row.quality))
        gold_score = None
        if row.is_gold:
            gold_score = float(
                kind.score(result, sql.json_out(row.gold), schema=schema, quality=quality)
            )
        annotation = sql.annotation_record(
            task_id=row.task_id,
            user_id=contributor.pk,
            assignment_id=assignment_id,
            result=result,
            # What the screen and the API served this person (the server derives it again).
            shown_order=kinds.shown_order(
                kind,
                sql.json_out(row.data),
                quality=quality,
                task_id=row.task_id,
                contributor_id=contributor.pk,
            ),
            seconds=seconds,
            score=gold_score,
            now=now,
            # A live lease's slot (even if its time is up and nobody reclaimed it yet) is
            # still ours: it turns into the answer.
            live_slot=not row.is_gold and live,
        )
        if gold_score is not None:
            _record_gold_score(
                project_id=row.project_id,
                contributor=contributor,
                score=gold_score,
                quality=quality,
            )
    annotation_submitted(annotation_id=annotation.pk, project_id=row.project_id)
    return annotation


def _annotation_revise(
    *, assignment_id: int, task_id: int, result: dict, seconds: int, now, live_slot: bool
) -> Annotation:
    """A corrected answer in place of the one sent back: one answer per person and task, so the
    same row takes the new result and waits to be judged again (quality keeps the rejected
    result with its review). A rare path, in the ORM. The caller holds the assignment's lock."""
    if live_slot:
        Task.objects.filter(pk=task_id).update(
            lease_count=F("lease_count") - 1,
            answer_count=F("answer_count") + 1,
            status=Case(
                When(answer_count__gte=F("overlap") - 1, then=Value(TaskStatus.ANNOTATED)),
                default=F("status"),
            ),
        )
    Assignment.objects.filter(pk=assignment_id).update(
        status=AssignmentStatus.SUBMITTED,
        finished_at=now,
        active_seconds=seconds,
        updated_at=now,
    )
    annotation = Annotation.objects.get(assignment_id=assignment_id)
    annotation.result, annotation.active_seconds, annotation.judged_at = result, seconds, None
    annotation.save(update_fields=["result", "active_seconds", "judged_at"])
    annotation_revised(annotation_id=annotation.pk)
    return annotation


def _record_gold_score(
    *, project_id: int, contributor: AbstractBaseUser, score: float, quality: dict
) -> None:
    """Add one gold score to the contributor's record; decide qualification when it is complete.

    Caller holds the assignment and task locks (lock order: the contributor row comes last).
    """
    mine = ProjectContributor.objects.filter(project_id=project_id, user=contributor)
    mine.update(
        gold_answered_count=F("gold_answered_count") + 1,
        gold_score_sum=F("gold_score_sum") + score,
        updated_at=timezone.now(),
    )
    pc = mine.first()
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
        sql.relax_commit()
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
            # Renewed, never shortened (an answer sent back to its author waits days for them).
            expires = max(expires, now + timedelta(minutes=float(quality["lease_minutes"])))
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
