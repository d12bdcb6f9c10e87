"""The quality step after submissions: count each answer, judge gold, consolidate, route.

A submission is done for the customer only when it is judged, so this step must keep up with the
queue. It works on batches of a project's waiting answers (``Annotation.judged_at`` empty), not
on one answer at a time: the project, its settings and its contributors' rows are read once per
batch, every counter of a contributor moves in one ``UPDATE`` per batch, the tasks that got
their last answer are locked and consolidated together, and no background-task row is written
per submission (a project has at most one queued run: :class:`quality.models.JudgingRequest`).

Several workers may run at once, on one machine or many:

* a batch takes its answers with ``FOR UPDATE SKIP LOCKED``, so two batches never share one;
* the tasks to consolidate are locked (in id order) and taken only while still ``annotated``, so a
  task gets one outcome even when its answers sit in two workers' batches (the second worker
  waits, then sees it is no longer ``annotated``);
* each batch is one transaction that also marks its answers judged: a worker killed in the middle
  leaves the whole batch waiting, never half counted.

Lock order, shared with the queue and with reviews: tasks, then standing rows (in id order), then
contributor rows. Webhooks are recorded, and their sending queued, in the batch's transaction; they
are sent after it commits.
"""

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, F, Min
from django.utils import timezone

from annotation.models import Annotation, ContributorStatus, ProjectContributor, Task, TaskStatus
from annotation.webhooks import webhook_enqueue, webhooks_enqueue
from labelhub.audit import audit_record, person_name
from labelhub.models import AuditAction, Project
from labelhub.quality_bars import quality_with_defaults
from quality.answer_weights import answer_weights
from quality.events import answers_judged
from quality.models import (
    NOT_COUNTED,
    REVIEW_PRIORITY,
    ContributorStanding,
    JudgingRequest,
    ReviewReason,
    TaskOutcome,
)
from quality.standing import gold_pass_score, review_rule_for
from quality.stats import is_credibly_below, jeffreys_interval, percent

BATCH_SIZE = 200
_review_dice = random.SystemRandom()


# --- asking for a run ------------------------------------------------------------------------


def judging_requested(*, project_id: int) -> bool:
    """Whether a run is queued for the project and has not started yet.

    One read outside any transaction, so that the submits that follow the first one while its
    run waits cost one round trip to the database instead of three (BEGIN, the insert that
    finds the row, COMMIT). Safe without a lock: a run deletes the row *before* it reads the
    waiting answers, so an answer committed before this read saw the row is read by that run.
    """
    return JudgingRequest.objects.filter(project_id=project_id).exists()


def judging_request(*, project_id: int) -> bool:
    """Note that the project has answers waiting; True when no run was queued yet (the caller
    then queues one, in the same transaction: :func:`quality.tasks.request_judging`)."""
    table = JudgingRequest._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (project_id, requested_at) VALUES (%s, %s) "  # noqa: S608
            "ON CONFLICT (project_id) DO NOTHING RETURNING project_id",
            [project_id, timezone.now()],
        )
        return cursor.fetchone() is not None


def judging_run(
    *,
    project_id: int,
    batch_size: int = BATCH_SIZE,
    on_full_batch: Callable[[], None] | None = None,
) -> int:
    """Judge every waiting answer of the project, batch by batch; return how many.

    The request row goes first, so that an answer committed after this run's last read asks
    for a new run. After a full batch, ``on_full_batch`` may queue a second run, so that another
    free worker shares a long backlog.
    """
    JudgingRequest.objects.filter(project_id=project_id)._raw_delete(connection.alias)
    judged = 0
    while True:
        count = judge_batch(project_id=project_id, limit=batch_size)
        judged += count
        if count < batch_size:
            return judged
        if on_full_batch is not None:
            on_full_batch()


def projects_with_waiting_answers() -> list[int]:
    """Projects with answers not yet judged (for housekeeping after an outage)."""
    return sorted(
        set(
            Annotation.objects.filter(judged_at__isnull=True).values_list(
                "task__project_id", flat=True
            )
        )
    )


# --- the backlog, as the dashboard and the API show it ----------------------------------------


@dataclass(frozen=True)
class Backlog:
    """Answers waiting for the quality step, and how long the oldest has waited."""

    waiting: int
    oldest_seconds: float | None

    def as_dict(self) -> dict:
        return {"waiting": self.waiting, "oldest_seconds": self.oldest_seconds}


def backlog_for(*, project: Project, now: datetime | None = None) -> Backlog:
    """One query over the partial index of waiting answers."""
    figures = Annotation.objects.filter(judged_at__isnull=True, task__project=project).aggregate(
        waiting=Count("pk"), oldest=Min("created_at")
    )
    oldest = figures["oldest"]
    age = None
    if oldest is not None:
        age = round(max(0.0, ((now or timezone.now()) - oldest).total_seconds()), 1)
    return Backlog(waiting=figures["waiting"], oldest_seconds=age)


# --- one batch ---------------------------------------------------------------------------------


@dataclass
class StandingChange:
    """What one batch adds to one contributor's standing."""

    submitted: int = 0
    active_seconds: int = 0
    gold_errors: int = 0
    gold_answered: bool = False
    peer_sum: float = 0.0
    peer_count: int = 0


def judge_batch(*, project_id: int, limit: int = BATCH_SIZE) -> int:
    """Judge up to ``limit`` waiting answers of the project in one transaction; return how many."""
    now = timezone.now()
    with transaction.atomic():
        batch = list(
            Annotation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(judged_at__isnull=True, task__project_id=project_id)
            .order_by("pk")
            .only(
                "pk",
                "task_id",
                "contributor_id",
                "assignment_id",
                "active_seconds",
                "gold_score",
                "created_at",
            )[:limit]
        )
        if not batch:
            return 0
        project = Project.objects.get(pk=project_id)
        quality = quality_with_defaults(project.quality)
        tasks = list(
            Task.objects.select_for_update(of=("self",))
            .filter(pk__in={a.task_id for a in batch}, status=TaskStatus.ANNOTATED, is_gold=False)
            .order_by("pk")
        )
        changes: dict[int, StandingChange] = defaultdict(StandingChange)
        bar = gold_pass_score(quality)
        for answer in batch:
            change = changes[answer.contributor_id]
            change.submitted += 1
            change.active_seconds += answer.active_seconds
            if answer.gold_score is not None:
                change.gold_answered = True
                change.gold_errors += answer.gold_score < bar
        tasks_consolidate(project=project, quality=quality, tasks=tasks, changes=changes, now=now)
        answers_judged(project=project, answers=batch)
        Annotation.objects.filter(pk__in=[a.pk for a in batch]).update(judged_at=now)
    return len(batch)


def tasks_consolidate(
    *,
    project: Project,
    quality: dict,
    tasks: list[Task],
    changes: dict[int, StandingChange] | None = None,
    now: datetime | None = None,
) -> dict[int, TaskOutcome]:
    """Consensus and agreement of each task's counted answers, then its route; the standing
    ``changes`` (answers counted by the caller, keyed by user id) are written with them.

    The caller holds the tasks' row locks. Low agreement → review; else a draw against each
    contributor's review share → review (sampled); else accepted (webhook recorded).
    """
    now = now or timezone.now()
    changes = changes if changes is not None else defaultdict(StandingChange)
    kind = project.task_kind
    answers: dict[int, list[Annotation]] = defaultdict(list)
    if tasks:
        counted = (
            Annotation.objects.filter(task__in=tasks)
            .exclude(quality_reviews__judgement__in=NOT_COUNTED)
            .select_related("contributor")
            .order_by("pk")
        )
        for answer in counted:
            answers[answer.task_id].append(answer)
    people = set(changes) | {a.contributor_id for task in tasks for a in answers[task.pk]}
    contributors = {
        pc.user_id: pc
        for pc in ProjectContributor.objects.filter(project=project, user_id__in=people)
        .select_related("user", "standing")
        .order_by("pk")
    }
    existing = {o.task_id: o for o in TaskOutcome.objects.filter(task__in=tasks)}
    outcomes, accepted, in_review = [], [], []
    for task in tasks:
        mine = answers[task.pk]
        if not mine:
            continue
        outcome = _outcome_for(
            task=task,
            answers=mine,
            kind=kind,
            project=project,
            quality=quality,
            now=now,
            weights=answer_weights(answers=mine, contributors=contributors),
        )
        outcome.version = existing[task.pk].version + 2 if task.pk in existing else 3
        if outcome.agreement is not None:
            for answer in mine:
                others = [o for o in mine if o.pk != answer.pk]
                value = sum(
                    float(kind.agreement([answer.result, o.result], **_kind_args(project, quality)))
                    for o in others
                ) / len(others)
                changes[answer.contributor_id].peer_sum += value
                changes[answer.contributor_id].peer_count += 1
        reason, note = _route(
            outcome=outcome,
            answers=mine,
            contributors=contributors,
            quality=quality,
            disagreement=kind.disagreement([a.result for a in mine], schema=project.schema)
            if len(mine) >= 2
            else "",
        )
        if reason:
            outcome.review_reason, outcome.review_note = reason, note
            outcome.review_priority = REVIEW_PRIORITY[reason]
            outcome.in_review_since = now
            task.status = TaskStatus.IN_REVIEW
            in_review.append(task.pk)
        else:
            outcome.accepted_result, outcome.accepted_at = outcome.proposal, now
            task.status = TaskStatus.ACCEPTED
            accepted.append(task)
        outcomes.append(outcome)
    _outcomes_store(outcomes=outcomes, existing=existing)
    for status, ids in (
        (TaskStatus.IN_REVIEW, in_review),
        (TaskStatus.ACCEPTED, [task.pk for task in accepted]),
    ):
        if ids:
            Task.objects.filter(pk__in=ids).update(status=status, updated_at=now)
    by_task = {o.task_id: o for o in outcomes}
    webhooks_enqueue(
        event="task.accepted", results=[(task, by_task[task.pk].proposal) for task in accepted]
    )
    _standings_apply(project=project, contributors=contributors, changes=changes, now=now)
    for user_id, change in sorted(changes.items()):
        if change.gold_answered and user_id in contributors:
            _pause_if_credibly_below_floor(pc_id=contributors[user_id].pk, quality=quality)
    return by_task


def _kind_args(project: Project, quality: dict) -> dict:
    return {"schema": project.schema, "quality": quality}


def _outcome_for(
    *, task: Task, answers: list, kind, project: Project, quality: dict, now, weights=None
):
    """``weights``: one per answer from a registered weigher (a model's standing), else equal."""
    results = [a.result for a in answers]
    if len(results) >= 2:
        consensus = kind.consolidate(
            results, data=task.data, weights=weights, **_kind_args(project, quality)
        )
        proposal, confidence, is_consensus = consensus.result, consensus.confidence, True
        agreement = float(kind.agreement(results, **_kind_args(project, quality)))
    else:
        proposal, confidence, is_consensus, agreement = results[0], None, False, None
    return TaskOutcome(
        task=task,
        project=project,
        proposal=proposal,
        is_consensus=is_consensus,
        confidence=confidence,
        agreement=agreement,
        answers_used=len(results),
        computed_at=now,
        accepted_result=None,
        accepted_at=None,
        review_reason="",
        review_priority=0,
        review_note="",
        in_review_since=None,
    )


def _route(
    *,
    outcome: TaskOutcome,
    answers: list,
    contributors: dict,
    quality: dict,
    disagreement: str = "",
):
    """(review reason, note), or ("", "") to accept. ``disagreement`` is the kind's word on a
    difference its agreement does not average away (two corrections of one step)."""
    if disagreement:
        return ReviewReason.LOW_AGREEMENT, disagreement
    threshold = float(quality["agreement_threshold"])
    if outcome.agreement is not None and outcome.agreement < threshold:
        note = (
            f"The {len(answers)} answers agree {percent(outcome.agreement)}; the project sends "
            f"tasks under {percent(threshold)} to review."
        )
        return ReviewReason.LOW_AGREEMENT, note
    for answer in answers:
        pc = contributors.get(answer.contributor_id)
        if pc is None:
            continue
        name = answer.contributor.get_full_name() or answer.contributor.get_username()
        rule = review_rule_for(pc=pc, quality=quality, name=name)
        if rule.share > 0 and _review_dice.random() < rule.share:
            return ReviewReason.SAMPLED, rule.words
    return "", ""


OUTCOME_FIELDS = [
    "proposal",
    "is_consensus",
    "confidence",
    "agreement",
    "answers_used",
    "computed_at",
    "accepted_result",
    "accepted_at",
    "review_reason",
    "review_priority",
    "review_note",
    "in_review_since",
    "version",
]


def _outcomes_store(*, outcomes: list[TaskOutcome], existing: dict[int, TaskOutcome]) -> None:
    """New outcomes in one INSERT, recomputed ones (after a rejection) in one UPDATE."""
    fresh = [o for o in outcomes if o.task_id not in existing]
    again = []
    for outcome in outcomes:
        if outcome.task_id in existing:
            outcome.pk = existing[outcome.task_id].pk
            again.append(outcome)
    if fresh:
        TaskOutcome.objects.bulk_create(fresh)
    if again:
        TaskOutcome.objects.bulk_update(again, OUTCOME_FIELDS)


def _standings_apply(
    *, project: Project, contributors: dict, changes: dict[int, StandingChange], now
) -> None:
    """All of a batch's standing changes in two statements, whatever the number of people: the
    rows are locked in id order (the order reviews lock them in too, so the two never deadlock),
    then moved by one ``UPDATE … FROM`` a list of values. Under a busy web tier every round trip
    to the database costs the worker a wait for a core, so their number is what the step's
    latency follows."""
    wanted = {uid: pc for uid, pc in contributors.items() if uid in changes}
    standing_ids = {pc.pk: pc.standing.pk for pc in wanted.values() if _has_standing(pc)}
    missing = [pc for pc in wanted.values() if pc.pk not in standing_ids]
    if missing:
        ContributorStanding.objects.bulk_create(
            [ContributorStanding(contributor=pc) for pc in missing], ignore_conflicts=True
        )
        standing_ids.update(
            ContributorStanding.objects.filter(contributor__in=missing).values_list(
                "contributor_id", "pk"
            )
        )
    rows = sorted(
        (
            standing_ids[pc.pk],
            change.submitted,
            change.active_seconds,
            change.gold_errors,
            change.peer_sum,
            change.peer_count,
        )
        for uid, change in changes.items()
        if (pc := wanted.get(uid)) is not None  # imported answers have no contributor row
        and (change.submitted or change.peer_count)
    )
    if not rows:
        return
    list(
        ContributorStanding.objects.select_for_update()
        .filter(pk__in=[row[0] for row in rows])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    table = connection.ops.quote_name(ContributorStanding._meta.db_table)
    one = (
        "(CAST(%s AS integer), CAST(%s AS integer), CAST(%s AS bigint), CAST(%s AS integer), "
        "CAST(%s AS double precision), CAST(%s AS integer))"
    )
    when = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v (id, submitted, active, gold_errors, peer_sum, peer_count) AS "  # noqa: S608
            f"(VALUES {', '.join([one] * len(rows))}) "
            f"UPDATE {table} SET "
            f"submitted_count = {table}.submitted_count + v.submitted, "
            f"active_seconds = {table}.active_seconds + v.active, "
            f"gold_error_count = {table}.gold_error_count + v.gold_errors, "
            f"peer_agreement_sum = {table}.peer_agreement_sum + v.peer_sum, "
            f"peer_agreement_count = {table}.peer_agreement_count + v.peer_count, "
            f"last_submitted_at = CASE WHEN v.submitted > 0 THEN %s "
            f"ELSE {table}.last_submitted_at END, "
            f"first_submitted_at = CASE WHEN v.submitted > 0 "
            f"THEN COALESCE({table}.first_submitted_at, %s) ELSE {table}.first_submitted_at END "
            f"FROM v WHERE {table}.id = v.id",
            [value for row in rows for value in row] + [when, when],
        )


def _has_standing(pc: ProjectContributor) -> bool:
    try:
        return pc.standing is not None
    except ContributorStanding.DoesNotExist:
        return False


def _pause_if_credibly_below_floor(*, pc_id: int, quality: dict) -> bool:
    """Pause an active contributor whose gold accuracy is credibly under the accuracy floor."""
    floor = float(quality["accuracy_floor"])
    if floor <= 0:
        return False
    pc = (
        ProjectContributor.objects.select_for_update(of=("self",))
        .select_related("project", "user")
        .get(pk=pc_id)
    )
    n = pc.gold_answered_count
    successes = min(float(pc.gold_score_sum), float(n))
    if pc.status != ContributorStatus.ACTIVE or not is_credibly_below(successes, n, floor):
        return False
    upper = jeffreys_interval(successes, n, confidence=0.90).high
    pc.status = ContributorStatus.PAUSED
    pc.pause_reason = (
        f"Paused automatically: accuracy on quality checks is {percent(successes / n)} over {n}; "
        f"even the upper end of its 95% bound ({percent(upper)}) is under the project's floor "
        f"of {percent(floor)}."
    )
    pc.save(update_fields=["status", "pause_reason", "updated_at"])
    ContributorStanding.objects.filter(contributor_id=pc_id).update(paused_automatically=True)
    audit_record(
        actor=None,
        action=AuditAction.CONTRIBUTOR_PAUSED,
        project=pc.project,
        summary=f"{person_name(pc.user)}: {pc.pause_reason}",
        changes={"status": {"from": ContributorStatus.ACTIVE, "to": ContributorStatus.PAUSED}},
    )
    return True


# --- single-task moves shared with reviews and flags ------------------------------------------


def send_to_review(*, task: Task, outcome: TaskOutcome, reason: str, note: str) -> None:
    now = timezone.now()
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.IN_REVIEW, updated_at=now)
    task.status = TaskStatus.IN_REVIEW
    TaskOutcome.objects.filter(pk=outcome.pk).update(
        review_reason=reason,
        review_priority=REVIEW_PRIORITY[reason],
        review_note=note,
        in_review_since=now,
        version=F("version") + 1,
    )
    outcome.refresh_from_db()


def accept(*, task: Task, outcome: TaskOutcome, result: dict, now) -> None:
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.ACCEPTED, updated_at=now)
    task.status = TaskStatus.ACCEPTED
    TaskOutcome.objects.filter(pk=outcome.pk).update(
        accepted_result=result,
        accepted_at=now,
        review_reason="",
        review_priority=0,
        in_review_since=None,
        version=F("version") + 1,
    )
    outcome.refresh_from_db()
    webhook_enqueue(task_obj=task, event="task.accepted", result=result)


def task_consolidate(*, task: Task) -> TaskOutcome:
    """Consolidate one task (the caller holds its row lock): housekeeping's entry point."""
    project = task.project
    quality = quality_with_defaults(project.quality)
    outcomes = tasks_consolidate(project=project, quality=quality, tasks=[task])
    if task.pk not in outcomes:
        raise ValueError(f"Task {task.pk} has no counted answer to consolidate.")
    return outcomes[task.pk]
