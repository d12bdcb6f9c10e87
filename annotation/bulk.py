"""The data manager's actions on many tasks at once: mark and unmark gold, requeue, raise the
priority, delete. Each locks its tasks, changes them in a few statements and writes one audit
row."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Least
from django.utils import timezone

from annotation.models import (
    Assignment,
    AssignmentStatus,
    Task,
    TaskStatus,
)
from labelhub.audit import audit_record
from labelhub.models import AuditAction, Project

# --- the data manager's actions on many tasks ------------------------------------------------
#
# Each action locks what it changes in the queue's order (assignments, then tasks), writes one
# audit record and returns what it did per task, so the page and the API say the same thing.

BULK_LIMIT = 10_000
PRIORITY_LIMIT = 1_000_000


@dataclass(frozen=True)
class TaskBulkOutcome:
    """What a bulk action did: the tasks it changed, and why it left others alone."""

    action: str
    changed: list[int]
    skipped: dict[int, str]

    @property
    def message(self) -> str:
        words = {
            "mark_gold": "marked gold",
            "unmark_gold": "no longer gold",
            "requeue": "back in the queue",
            "raise_priority": "raised in priority",
            "delete": "deleted",
        }[self.action]
        text = f"{len(self.changed)} task{'s' if len(self.changed) != 1 else ''} {words}."
        if self.skipped:
            reasons = sorted(set(self.skipped.values()))
            text += f" {len(self.skipped)} left as they were: " + "; ".join(reasons)
        return text


def _bulk_ids(task_ids: list[int]) -> list[int]:
    ids = sorted({int(pk) for pk in task_ids})
    if not ids:
        raise ValidationError({"tasks": ["Choose at least one task."]})
    if len(ids) > BULK_LIMIT:
        raise ValidationError({"tasks": [f"At most {BULK_LIMIT} tasks at once."]})
    return ids


def _lock_tasks(*, project: Project, ids: list[int], assignments: Q | None = None) -> list[Task]:
    """Lock the tasks (after the assignments given by ``assignments``, the queue's lock order)."""
    if assignments is not None:
        list(
            Assignment.objects.select_for_update(of=("self",))
            .filter(assignments, project=project, task_id__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return list(
        Task.objects.select_for_update(of=("self",))
        .filter(project=project, pk__in=ids)
        .order_by("pk")
    )


def _audit_bulk(
    *,
    actor: AbstractBaseUser | None,
    project: Project,
    action: AuditAction,
    outcome: TaskBulkOutcome,
    extra: dict | None = None,
) -> None:
    if not outcome.changed:
        return
    shown = ", ".join(str(pk) for pk in outcome.changed[:20])
    more = f" and {len(outcome.changed) - 20} more" if len(outcome.changed) > 20 else ""
    audit_record(
        actor=actor,
        action=action,
        project=project,
        summary=f"{outcome.message.split('.')[0]}: {shown}{more}",
        changes={"tasks": outcome.changed[:BULK_LIMIT], **(extra or {})},
    )


def _gold_from_answers(task: Task) -> tuple[dict | None, str]:
    """The answer to make gold when none is chosen: the accepted result, else the consensus,
    else the only answer. The outcome is the quality app's (reached through its relation)."""
    outcome = getattr(task, "outcome", None)  # None without one (or without the quality app)
    if outcome is not None and outcome.accepted_result is not None:
        return outcome.accepted_result, ""
    if outcome is not None and outcome.proposal is not None:
        return outcome.proposal, ""
    answers = list(task.annotations.values_list("result", flat=True)[:2])
    if len(answers) == 1:
        return answers[0], ""
    if not answers:
        return None, "no answer to take yet (open the task to type one)"
    return None, "several answers and no consensus yet (open the task to choose one)"


def _clean_gold(*, project: Project, task: Task, result: object) -> dict:
    kind = project.task_kind
    data = kind.answer_data(data=task.data, result=result)
    try:
        return kind.clean_result(result, schema=project.schema, data=data)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise ValidationError(
                {
                    f"gold.{path.removeprefix('result.')}": m
                    for path, m in error.message_dict.items()
                }
            ) from None
        raise ValidationError({"gold": error.messages}) from None


def task_mark_gold(
    *,
    project: Project,
    task_ids: list[int],
    actor: AbstractBaseUser | None,
    result: dict | None = None,
    annotation_id: int | None = None,
) -> TaskBulkOutcome:
    """Make tasks gold. The answer is ``result`` (typed in the task's editor) or the answer
    ``annotation_id`` (one task only), else each task's accepted result, consensus or only answer.

    A gold task has no cap and is served as a quality check to contributors who never had it; its
    leases stop counting (gold never counts them). Answers it had keep their place (not scored).
    """
    ids = _bulk_ids(task_ids)
    if (result is not None or annotation_id is not None) and len(ids) != 1:
        raise ValidationError({"gold": ["A typed or chosen answer is for one task at a time."]})
    changed: list[int] = []
    skipped: dict[int, str] = {}
    with transaction.atomic():
        tasks = _lock_tasks(project=project, ids=ids, assignments=Q(status=AssignmentStatus.ACTIVE))
        for task in tasks:
            task.project = project
            if annotation_id is not None:
                chosen = task.annotations.filter(pk=annotation_id).values_list("result", flat=True)
                if not chosen:
                    raise ValidationError({"annotation": ["This answer is not one of the task's."]})
                answer, why = chosen[0], ""
            elif result is not None:
                answer, why = result, ""
            else:
                answer, why = _gold_from_answers(task)
            if answer is None:
                skipped[task.pk] = why
                continue
            try:
                gold = _clean_gold(project=project, task=task, result=answer)
            except ValidationError:
                if result is not None:
                    raise
                skipped[task.pk] = "its answer is not valid for the task"
                continue
            Task.objects.filter(pk=task.pk).update(
                is_gold=True, gold=gold, lease_count=0, updated_at=timezone.now()
            )
            changed.append(task.pk)
        skipped.update(dict.fromkeys(set(ids) - {t.pk for t in tasks}, "not in this project"))
        outcome = TaskBulkOutcome("mark_gold", changed, skipped)
        source = "typed" if result is not None else "answer" if annotation_id else "answers"
        _audit_bulk(
            actor=actor,
            project=project,
            action=AuditAction.TASKS_GOLD_MARKED,
            outcome=outcome,
            extra={"source": source},
        )
    return outcome


def _live_leases(task_ids: list[int]) -> dict[int, int]:
    return dict(
        Assignment.objects.filter(task_id__in=task_ids, status=AssignmentStatus.ACTIVE)
        .values_list("task_id")
        .annotate(n=Count("pk"))
        .values_list("task_id", "n")
    )


def _reopened(task: Task, *, leases: int) -> dict:
    """The counters of a task put back in the queue: it wants one more answer than it has (or
    its overlap, if more), and its live leases hold their slots again."""
    overlap = max(task.overlap, task.answer_count + leases + 1)
    return {"overlap": overlap, "lease_count": leases, "status": TaskStatus.OPEN}


def task_unmark_gold(
    *, project: Project, task_ids: list[int], actor: AbstractBaseUser | None
) -> TaskBulkOutcome:
    """Make gold tasks normal work again, keeping the answers they got.

    It goes back to the queue wanting one answer more than it has (at least its overlap); with
    that answer its consensus is made from all of them, as for any task.
    """
    ids = _bulk_ids(task_ids)
    changed: list[int] = []
    skipped: dict[int, str] = {}
    with transaction.atomic():
        tasks = _lock_tasks(project=project, ids=ids, assignments=Q(status=AssignmentStatus.ACTIVE))
        leases = _live_leases([t.pk for t in tasks])
        for task in tasks:
            if not task.is_gold:
                skipped[task.pk] = "not gold"
                continue
            fields = _reopened(task, leases=leases.get(task.pk, 0))
            if task.answer_count + fields["lease_count"] < task.overlap:
                fields["overlap"] = task.overlap  # still short of its overlap: nothing to add
            Task.objects.filter(pk=task.pk).update(
                is_gold=False, gold=None, updated_at=timezone.now(), **fields
            )
            changed.append(task.pk)
        outcome = TaskBulkOutcome("unmark_gold", changed, skipped)
        _audit_bulk(
            actor=actor, project=project, action=AuditAction.TASKS_GOLD_UNMARKED, outcome=outcome
        )
    return outcome


def task_requeue(
    *, project: Project, task_ids: list[int], actor: AbstractBaseUser | None
) -> TaskBulkOutcome:
    """Put tasks back in the queue: open for one more answer if they had all they asked for, and
    open again to the people who skipped them or let their lease expire (those assignments hold
    no answer; who skipped and why is kept in the audit record).
    """
    ids = _bulk_ids(task_ids)
    # (an expired lease on an answer sent back to its author still holds that answer: kept)
    done = Q(
        status__in=[AssignmentStatus.SKIPPED, AssignmentStatus.EXPIRED], annotation__isnull=True
    )
    changed: list[int] = []
    skipped: dict[int, str] = {}
    with transaction.atomic():
        tasks = _lock_tasks(
            project=project, ids=ids, assignments=done | Q(status=AssignmentStatus.ACTIVE)
        )
        live = [t.pk for t in tasks if not t.is_gold]
        skipped.update({t.pk: "gold tasks are always open" for t in tasks if t.is_gold})
        cleared = list(
            Assignment.objects.filter(done, task_id__in=live)
            .select_related("contributor")
            .values_list("task_id", "contributor__username", "status", "skip_reason")
        )
        Assignment.objects.filter(done, task_id__in=live).delete()
        leases = _live_leases(live)
        for task in tasks:
            if task.is_gold:
                continue
            n = leases.get(task.pk, 0)
            fields = (
                _reopened(task, leases=n)
                if task.answer_count + n >= task.overlap
                else {"status": TaskStatus.OPEN, "lease_count": n}
            )
            Task.objects.filter(pk=task.pk).update(updated_at=timezone.now(), **fields)
            changed.append(task.pk)
        outcome = TaskBulkOutcome("requeue", changed, skipped)
        _audit_bulk(
            actor=actor,
            project=project,
            action=AuditAction.TASKS_REQUEUED,
            outcome=outcome,
            extra={
                "cleared": [
                    {"task": t, "user": u, "status": s, "reason": r}
                    for t, u, s, r in cleared[:1000]
                ]
            },
        )
    return outcome


def task_raise_priority(
    *, project: Project, task_ids: list[int], actor: AbstractBaseUser | None, by: int = 10
) -> TaskBulkOutcome:
    """Serve tasks sooner: their priority goes up by ``by`` (higher is served first)."""
    ids = _bulk_ids(task_ids)
    if isinstance(by, bool) or not isinstance(by, int) or not 1 <= by <= PRIORITY_LIMIT:
        raise ValidationError({"by": [f"Raise by a whole number from 1 to {PRIORITY_LIMIT}."]})
    with transaction.atomic():
        found = list(
            Task.objects.filter(project=project, pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Task.objects.filter(pk__in=found).update(
            priority=Least(F("priority") + by, Value(PRIORITY_LIMIT)), updated_at=timezone.now()
        )
        skipped = dict.fromkeys(set(ids) - set(found), "not in this project")
        outcome = TaskBulkOutcome("raise_priority", found, skipped)
        _audit_bulk(
            actor=actor,
            project=project,
            action=AuditAction.TASKS_PRIORITY_RAISED,
            outcome=outcome,
            extra={"by": by},
        )
    return outcome


def task_delete(
    *, project: Project, task_ids: list[int], actor: AbstractBaseUser | None
) -> TaskBulkOutcome:
    """Delete tasks with their answers, leases, reviews and files (files once committed)."""
    ids = _bulk_ids(task_ids)
    with transaction.atomic():
        tasks = _lock_tasks(project=project, ids=ids, assignments=Q())
        files = [f.name for t in tasks for f in (t.media, t.thumbnail) if f]
        found = [t.pk for t in tasks]
        Task.objects.filter(pk__in=found).delete()
        skipped = dict.fromkeys(set(ids) - set(found), "not in this project")
        outcome = TaskBulkOutcome("delete", found, skipped)
        _audit_bulk(
            actor=actor,
            project=project,
            action=AuditAction.TASKS_DELETED,
            outcome=outcome,
            extra={"external_ids": [t.external_id for t in tasks if t.external_id][:1000]},
        )
        transaction.on_commit(lambda: _delete_files(files))
    return outcome


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            continue


TASK_ACTIONS: dict[str, Callable[..., TaskBulkOutcome]] = {
    "mark_gold": task_mark_gold,
    "unmark_gold": task_unmark_gold,
    "requeue": task_requeue,
    "raise_priority": task_raise_priority,
    "delete": task_delete,
}
