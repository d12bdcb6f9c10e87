"""Quality writes: consolidation after a submission, routing to review, reviews, flags, pauses.

Lock order follows the queue's (assignments, then tasks, then contributor rows): every service
here locks the task first, then touches ``ContributorStanding`` / ``ProjectContributor`` rows.
Webhooks and audit records are written in the same transaction (the webhook is sent after commit).
"""

import inspect
import random
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotation.models import (
    Annotation,
    ContributorStatus,
    ProjectContributor,
    Task,
    TaskStatus,
)
from annotation.webhooks import webhook_enqueue
from labelhub.audit import audit_record, changed_fields
from labelhub.models import AuditAction, Project
from labelhub.quality_bars import quality_with_defaults
from quality.models import (
    REVIEW_PRIORITY,
    AnnotationReview,
    AnswerJudgement,
    ContributorStanding,
    Review,
    ReviewReason,
    TaskOutcome,
    Verdict,
)
from quality.standing import gold_pass_score, review_rule_for
from quality.stats import Stage, is_credibly_below, jeffreys_interval, percent

_review_dice = random.SystemRandom()


class ReviewRefusal(Exception):
    """A review that cannot land, with a message for the reviewer."""

    code = "refused"
    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReviewConflict(ReviewRefusal):
    code = "conflict"


# --- after a submission --------------------------------------------------------------------


def annotation_after_submit(annotation_id: int) -> None:
    """The quality side of a submission (registered with ``annotation.events``; runs after the
    submit commits): count it in the contributor's standing, judge gold, and consolidate the task
    once it has all its answers."""
    with transaction.atomic():
        annotation = (
            Annotation.objects.select_related("task", "task__project", "contributor")
            .filter(pk=annotation_id)
            .first()
        )
        if annotation is None:
            return
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("project")
            .get(pk=annotation.task_id)
        )
        project = task.project
        quality = quality_with_defaults(project.quality)
        standing = _standing_for(project=project, user=annotation.contributor)
        if standing is None:  # answered without ever claiming (imported answers): nothing to count
            pass
        else:
            now = timezone.now()
            updates = {
                "submitted_count": F("submitted_count") + 1,
                "active_seconds": F("active_seconds") + annotation.active_seconds,
                "last_submitted_at": now,
            }
            if annotation.gold_score is not None and annotation.gold_score < gold_pass_score(
                quality
            ):
                updates["gold_error_count"] = F("gold_error_count") + 1
            ContributorStanding.objects.filter(pk=standing.pk).update(**updates)
            ContributorStanding.objects.filter(pk=standing.pk, first_submitted_at=None).update(
                first_submitted_at=now
            )
            if annotation.gold_score is not None:
                _pause_if_credibly_below_floor(pc_id=standing.contributor_id, quality=quality)
        if not task.is_gold and task.status == TaskStatus.ANNOTATED:
            task_consolidate(task=task)


def _standing_for(*, project: Project, user: AbstractBaseUser) -> ContributorStanding | None:
    pc = ProjectContributor.objects.filter(project=project, user=user).only("pk").first()
    if pc is None:
        return None
    standing, _ = ContributorStanding.objects.get_or_create(contributor=pc)
    return standing


def _pause_if_credibly_below_floor(*, pc_id: int, quality: dict) -> bool:
    """Pause an active contributor whose gold accuracy is credibly under the accuracy floor."""
    floor = float(quality["accuracy_floor"])
    pc = (
        ProjectContributor.objects.select_for_update(of=("self",))
        .select_related("project", "user")
        .get(pk=pc_id)
    )
    n = pc.gold_answered_count
    successes = min(float(pc.gold_score_sum), float(n))
    if floor <= 0 or pc.status != ContributorStatus.ACTIVE:
        return False
    if not is_credibly_below(successes, n, floor):
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
        summary=f"{pc.user.get_username()}: {pc.pause_reason}",
        changes={"status": {"from": ContributorStatus.ACTIVE, "to": ContributorStatus.PAUSED}},
    )
    return True


def _consolidate_kwargs(kind, task: Task) -> dict:
    if "data" in inspect.signature(kind.consolidate).parameters:
        return {"data": task.data}
    return {}


def task_consolidate(*, task: Task) -> TaskOutcome:
    """Consensus and agreement of the task's counted answers, then its route.

    Caller holds the task's row lock. Low agreement → review; else a draw against each
    contributor's review share → review (sampled); else accepted (webhook enqueued).
    """
    project = task.project
    kind = project.task_kind
    quality = quality_with_defaults(project.quality)
    annotations = list(
        task.annotations.exclude(quality_reviews__judgement=AnswerJudgement.REJECTED)
        .select_related("contributor")
        .order_by("pk")
    )
    results = [a.result for a in annotations]
    now = timezone.now()
    if len(results) >= 2:
        consensus = kind.consolidate(
            results, schema=project.schema, quality=quality, **_consolidate_kwargs(kind, task)
        )
        proposal, confidence, is_consensus = consensus.result, consensus.confidence, True
        agreement = float(kind.agreement(results, schema=project.schema, quality=quality))
        _record_peer_agreement(kind=kind, project=project, annotations=annotations, quality=quality)
    else:
        proposal, confidence, is_consensus, agreement = results[0], None, False, None
    outcome, _ = TaskOutcome.objects.update_or_create(
        task=task,
        defaults={
            "project": project,
            "proposal": proposal,
            "is_consensus": is_consensus,
            "confidence": confidence,
            "agreement": agreement,
            "answers_used": len(results),
            "computed_at": now,
            "accepted_result": None,
            "accepted_at": None,
            "review_reason": "",
            "review_priority": 0,
            "review_note": "",
            "in_review_since": None,
        },
    )
    TaskOutcome.objects.filter(pk=outcome.pk).update(version=F("version") + 1)
    outcome.refresh_from_db(fields=["version"])
    task.status = TaskStatus.CONSOLIDATED
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.CONSOLIDATED, updated_at=now)

    threshold = float(quality["agreement_threshold"])
    if agreement is not None and agreement < threshold:
        note = (
            f"The {len(results)} answers agree {percent(agreement)}; the project sends tasks "
            f"under {percent(threshold)} to review."
        )
        _send_to_review(task=task, outcome=outcome, reason=ReviewReason.LOW_AGREEMENT, note=note)
        return outcome
    for annotation in annotations:
        pc = (
            ProjectContributor.objects.select_related("user", "standing")
            .filter(project=project, user=annotation.contributor)
            .first()
        )
        if pc is None:
            continue
        name = annotation.contributor.get_full_name() or annotation.contributor.get_username()
        rule = review_rule_for(pc=pc, quality=quality, name=name)
        if rule.share > 0 and _review_dice.random() < rule.share:
            _send_to_review(
                task=task, outcome=outcome, reason=ReviewReason.SAMPLED, note=rule.words
            )
            return outcome
    _accept(task=task, outcome=outcome, result=proposal, now=now)
    return outcome


def _record_peer_agreement(*, kind, project: Project, annotations: list, quality: dict) -> None:
    """Each contributor's mean agreement with each of their peers on this task."""
    for mine in annotations:
        others = [a for a in annotations if a.pk != mine.pk]
        value = sum(
            float(kind.agreement([mine.result, o.result], schema=project.schema, quality=quality))
            for o in others
        ) / len(others)
        standing = _standing_for(project=project, user=mine.contributor)
        if standing is not None:
            ContributorStanding.objects.filter(pk=standing.pk).update(
                peer_agreement_sum=F("peer_agreement_sum") + value,
                peer_agreement_count=F("peer_agreement_count") + 1,
            )


def _send_to_review(*, task: Task, outcome: TaskOutcome, reason: str, note: str) -> None:
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


def _accept(*, task: Task, outcome: TaskOutcome, result: dict, now) -> None:
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


# --- reviews ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRecorded:
    review: Review
    task: Task
    outcome: TaskOutcome


def _clean_fix(*, task: Task, project: Project, result: dict) -> dict:
    """Validate a fix the way a submission is validated (bbox: the editor's image size counts)."""
    data = task.data
    if isinstance(result, dict) and project.kind == "bbox":
        sizes = {k: result[k] for k in ("width", "height") if k in result and k not in data}
        data = {**data, **sizes}
    return project.task_kind.clean_result(result, schema=project.schema, data=data)


def review_record(
    *,
    task_id: int,
    project: Project,
    reviewer: AbstractBaseUser,
    verdict: str,
    version: int,
    result: dict | None = None,
    comment: str = "",
    reject_annotation_ids: list[int] | None = None,
) -> ReviewRecorded:
    """Record a reviewer's verdict on a task in review.

    ``accept`` accepts the proposal; ``fix`` accepts ``result`` (validated by the kind; raises
    ``ValidationError``); ``reject`` needs a ``comment`` and sends the task back to the queue:
    the rejected answers (all by default, or ``reject_annotation_ids``) stop counting toward the
    overlap and leave the consensus, so new contributors fill their slots (the same people never
    get the task again). Raises :class:`ReviewConflict` when ``version`` is not the outcome's
    current version (someone else reviewed it, or new answers changed it) and ``Task.DoesNotExist``
    for a task outside ``project``.
    """
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": ["The verdict is accept, reject or fix."]})
    comment = (comment or "").strip()
    if verdict == Verdict.REJECT and not comment:
        raise ValidationError({"comment": ["Say why you reject it: the contributor sees this."]})
    if verdict == Verdict.FIX and result is None:
        raise ValidationError({"result": ["A fix needs the corrected result."]})
    now = timezone.now()
    with transaction.atomic(durable=True):
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("project")
            .get(pk=task_id, project=project, is_gold=False)
        )
        outcome = TaskOutcome.objects.select_for_update().filter(task=task).first()
        if task.status != TaskStatus.IN_REVIEW or outcome is None:
            raise ReviewConflict(
                "This task is no longer waiting for review: someone else has reviewed it."
            )
        if outcome.version != version:
            raise ReviewConflict(
                "This task changed since you opened it (another review or new answers). "
                "Reload it to see the latest before you decide."
            )
        kind = project.task_kind
        quality = quality_with_defaults(project.quality)
        annotations = list(
            task.annotations.exclude(quality_reviews__judgement=AnswerJudgement.REJECTED)
            .select_related("contributor")
            .order_by("pk")
        )
        cleaned = (
            _clean_fix(task=task, project=project, result=result)
            if verdict == Verdict.FIX
            else None
        )
        review = Review.objects.create(
            task=task,
            project=project,
            reviewer=reviewer,
            verdict=verdict,
            reason=outcome.review_reason or ReviewReason.FLAGGED,
            result=cleaned,
            comment=comment[:5000],
        )
        if verdict == Verdict.REJECT:
            wanted = set(reject_annotation_ids or [a.pk for a in annotations])
            rejected = [a for a in annotations if a.pk in wanted]
            if not rejected:
                raise ValidationError({"annotations": ["Choose the answers you reject."]})
            AnnotationReview.objects.bulk_create(
                AnnotationReview(review=review, annotation=a, judgement=AnswerJudgement.REJECTED)
                for a in rejected
            )
            Task.objects.filter(pk=task.pk).update(
                answer_count=F("answer_count") - len(rejected),
                status=TaskStatus.OPEN,
                updated_at=now,
            )
            TaskOutcome.objects.filter(pk=outcome.pk).update(
                review_reason="",
                review_priority=0,
                in_review_since=None,
                version=F("version") + 1,
            )
            for a in rejected:
                _standing_reviewed(project=project, user=a.contributor, ok=False, quality=quality)
        else:
            accepted = cleaned if verdict == Verdict.FIX else outcome.proposal
            bar = gold_pass_score(quality)
            judgements = []
            for a in annotations:
                score = float(
                    kind.score(a.result, accepted, schema=project.schema, quality=quality)
                )
                ok = score >= bar
                judgements.append(
                    AnnotationReview(
                        review=review,
                        annotation=a,
                        judgement=AnswerJudgement.ACCEPTED if ok else AnswerJudgement.CORRECTED,
                        score=score,
                    )
                )
                _standing_reviewed(project=project, user=a.contributor, ok=ok, quality=quality)
            AnnotationReview.objects.bulk_create(judgements)
            _accept(task=task, outcome=outcome, result=accepted, now=now)
        audit_record(
            actor=reviewer,
            action=AuditAction.REVIEW_RECORDED,
            project=project,
            summary=f"{Verdict(verdict).label} on task {task.pk}"
            + (f": {comment[:200]}" if comment else ""),
            changes={"task": task.pk, "verdict": verdict, "reason": review.reason},
        )
        task.refresh_from_db()
        outcome.refresh_from_db()
    return ReviewRecorded(review=review, task=task, outcome=outcome)


def _standing_reviewed(
    *, project: Project, user: AbstractBaseUser, ok: bool, quality: dict
) -> None:
    """Count one review check; move the review stage; pause when the record is credibly bad."""
    standing = _standing_for(project=project, user=user)
    if standing is None:
        return
    ContributorStanding.objects.filter(pk=standing.pk).update(
        reviewed_count=F("reviewed_count") + 1,
        review_accepted_count=F("review_accepted_count") + (1 if ok else 0),
        review_error_count=F("review_error_count") + (0 if ok else 1),
    )
    pc = (
        ProjectContributor.objects.select_for_update(of=("self",))
        .select_related("user", "standing")
        .get(pk=standing.contributor_id)
    )
    name = user.get_full_name() or user.get_username()
    rule = review_rule_for(pc=pc, quality=quality, name=name)
    ContributorStanding.objects.filter(pk=standing.pk).update(review_stage=rule.decision.stage)
    if (
        quality.get("review_policy") == "adaptive"
        and rule.decision.stage == Stage.PAUSED
        and pc.status == ContributorStatus.ACTIVE
    ):
        pc.status = ContributorStatus.PAUSED
        pc.pause_reason = f"Paused automatically by reviews: {rule.words}"
        pc.save(update_fields=["status", "pause_reason", "updated_at"])
        ContributorStanding.objects.filter(pk=standing.pk).update(paused_automatically=True)


def task_flag_for_review(
    *, task_id: int, project: Project, actor: AbstractBaseUser, note: str = ""
) -> TaskOutcome:
    """A manager sends a consolidated or accepted task to review (it leaves "accepted")."""
    with transaction.atomic(durable=True):
        task = Task.objects.select_for_update(of=("self",)).get(
            pk=task_id, project=project, is_gold=False
        )
        outcome = TaskOutcome.objects.filter(task=task).first()
        if outcome is None or task.status not in (
            TaskStatus.CONSOLIDATED,
            TaskStatus.ACCEPTED,
            TaskStatus.IN_REVIEW,
        ):
            raise ReviewRefusal("Only a task with all its answers in can be flagged for review.")
        name = actor.get_full_name() or actor.get_username()
        words = f"Flagged by {name}" + (f": {note.strip()}" if note.strip() else ".")
        _send_to_review(task=task, outcome=outcome, reason=ReviewReason.FLAGGED, note=words)
    return outcome


# --- manager actions on contributors -------------------------------------------------------


def _contributor_for_update(*, project: Project, user_id: int) -> ProjectContributor:
    """The person's contributor row on the project, locked; out-of-range ids match nothing."""
    return (
        ProjectContributor.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(project=project, user__pk=user_id)
    )


def contributor_pause(
    *, project: Project, user_id: int, actor: AbstractBaseUser, reason: str = ""
) -> ProjectContributor:
    """Pause a contributor on the project; the queue refuses them work with the reason.

    A disqualified contributor stays disqualified (pausing would let a resume readmit them).
    """
    with transaction.atomic(durable=True):
        pc = _contributor_for_update(project=project, user_id=user_id)
        if pc.status == ContributorStatus.DISQUALIFIED:
            return pc
        name = actor.get_full_name() or actor.get_username()
        before = {"status": pc.status, "pause_reason": pc.pause_reason}
        pc.status = ContributorStatus.PAUSED
        pc.pause_reason = reason.strip()[:500] or f"Paused by {name}."
        pc.save(update_fields=["status", "pause_reason", "updated_at"])
        ContributorStanding.objects.filter(contributor=pc).update(paused_automatically=False)
        audit_record(
            actor=actor,
            action=AuditAction.CONTRIBUTOR_PAUSED,
            project=project,
            summary=f"{pc.user.get_username()}: {pc.pause_reason}",
            changes=changed_fields(before, {"status": pc.status, "pause_reason": pc.pause_reason}),
        )
    return pc


def contributor_resume(
    *, project: Project, user_id: int, actor: AbstractBaseUser
) -> ProjectContributor:
    """Let a paused contributor work again (a disqualified one stays out)."""
    with transaction.atomic(durable=True):
        pc = _contributor_for_update(project=project, user_id=user_id)
        if pc.status == ContributorStatus.PAUSED:
            before = {"status": pc.status, "pause_reason": pc.pause_reason}
            pc.status = ContributorStatus.ACTIVE
            pc.pause_reason = ""
            pc.save(update_fields=["status", "pause_reason", "updated_at"])
            ContributorStanding.objects.filter(contributor=pc).update(paused_automatically=False)
            audit_record(
                actor=actor,
                action=AuditAction.CONTRIBUTOR_RESUMED,
                project=project,
                summary=f"{pc.user.get_username()} may work again.",
                changes=changed_fields(before, {"status": pc.status, "pause_reason": ""}),
            )
    return pc
