"""Quality writes: reviews, flags, pauses (the step after each submission is quality.judging).

Lock order follows the queue's (assignments, then tasks, then contributor rows): every service
here locks the task first, then touches ``ContributorStanding`` / ``ProjectContributor`` rows.
Webhooks and audit records are written in the same transaction (the webhook is sent after commit).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotation.events import result_refusal
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    ContributorStatus,
    ProjectContributor,
    Task,
    TaskStatus,
)
from labelhub.audit import audit_record, changed_fields, person_name
from labelhub.models import AuditAction, Project
from labelhub.permissions import can_label
from labelhub.quality_bars import quality_with_defaults
from labelhub.refusals import Refusal
from quality.events import answers_rejected
from quality.judging import accept, send_to_review, tasks_consolidate
from quality.models import (
    NOT_COUNTED,
    OVERRULED,
    AnnotationReview,
    AnswerJudgement,
    ContributorStanding,
    Review,
    ReviewReason,
    TaskOutcome,
    Verdict,
)
from quality.standing import gold_pass_score, review_rule_for
from quality.stats import Stage


class ReviewRefusal(Refusal):
    """A review that cannot land, with a message for the reviewer."""

    code = "refused"
    status = 409


class ReviewConflict(ReviewRefusal):
    code = "conflict"


class OwnAnswer(ReviewRefusal):
    """The reviewer answered the task: someone else reviews it (a manager who labels may)."""

    code = "own_answer"
    status = 403


class Overruled(ReviewRefusal):
    """An appeal reversed the reviewer's rejection on this task: another reviewer or a manager
    reviews it from then on."""

    code = "overruled"
    status = 403


# --- reviews ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRecorded:
    review: Review
    task: Task
    outcome: TaskOutcome
    sent_back: tuple[int, ...] = ()  # rejected answers given back to their authors to correct


COMMENT_LIMIT = 5000  # a reviewer's comment; the form says so


def _clean_fix(*, task: Task, project: Project, result: dict) -> dict:
    """Validate a fix the way a submission is validated (with what the editor sent along)."""
    kind = project.task_kind
    data = kind.answer_data(data=task.data, result=result)
    cleaned = kind.clean_result(result, schema=project.schema, data=data)
    if refusal := result_refusal(project_id=project.pk, kind=kind, result=cleaned):
        raise ValidationError({"proof": [refusal]})  # e.g. a fix is re-proved before it stands
    return cleaned


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
    the rejected answers (``reject_annotation_ids``; ``None`` means all of them, an empty list
    is refused) stop counting toward the overlap and leave the consensus. With the project's
    ``rejected_to`` at ``others`` new contributors fill their slots (the same people never get
    the task again); at ``author`` each answer goes back to its author to correct
    (:func:`_send_back`). Raises :class:`ReviewConflict` when ``version`` is not the outcome's
    current version (someone else reviewed it, or new answers changed it) and ``Task.DoesNotExist``
    for a task outside ``project``.

    The steps: check the verdict (:func:`_review_clean`), lock the task and its outcome
    (:func:`_review_locked`), store the review, then judge the answers —
    :func:`_review_reject` or :func:`_review_accept` — and write the audit row.
    """
    comment = _review_clean(verdict=verdict, comment=comment, result=result)
    now = timezone.now()
    returned: set[int] = set()
    with transaction.atomic(durable=True):
        task, outcome = _review_locked(
            task_id=task_id, project=project, reviewer=reviewer, version=version
        )
        quality = quality_with_defaults(project.quality)
        annotations = list(
            task.annotations.exclude(quality_reviews__judgement__in=NOT_COUNTED)
            .select_related("contributor")
            .order_by("pk")
        )
        cleaned = (
            _clean_fix(task=task, project=project, result=result)
            if verdict == Verdict.FIX
            else None
        )
        _standings_lock(project=project, user_ids=[a.contributor_id for a in annotations])
        review = Review.objects.create(
            task=task,
            project=project,
            reviewer=reviewer,
            verdict=verdict,
            reason=outcome.review_reason or ReviewReason.FLAGGED,
            result=cleaned,
            comment=comment,
        )
        if verdict == Verdict.REJECT:
            returned = _review_reject(
                review=review,
                outcome=outcome,
                annotations=annotations,
                wanted=reject_annotation_ids,
                quality=quality,
                now=now,
            )
        else:
            accepted = cleaned if verdict == Verdict.FIX else outcome.proposal
            _review_accept(
                review=review,
                outcome=outcome,
                annotations=annotations,
                accepted=accepted,
                quality=quality,
                now=now,
            )
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
    return ReviewRecorded(
        review=review, task=task, outcome=outcome, sent_back=tuple(sorted(returned))
    )


def _review_clean(*, verdict: str, comment: str, result: dict | None) -> str:
    """Check what the reviewer sent before anything is locked; the comment, trimmed."""
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": ["The verdict is accept, reject or fix."]})
    comment = (comment or "").strip()
    if verdict == Verdict.REJECT and not comment:
        raise ValidationError({"comment": ["Say why you reject it: the contributor sees this."]})
    if len(comment) > COMMENT_LIMIT:
        raise ValidationError(
            {"comment": [f"Up to {COMMENT_LIMIT:,} characters; this one has {len(comment):,}."]}
        )
    if verdict == Verdict.FIX and result is None:
        raise ValidationError({"result": ["A fix needs the corrected result."]})
    return comment


def _review_locked(
    *, task_id: int, project: Project, reviewer: AbstractBaseUser, version: int
) -> tuple[Task, TaskOutcome]:
    """The task and its outcome, locked, once it is sure this reviewer may decide this version.

    Caller holds the transaction; takes the task's and the outcome's row locks."""
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
    if task.annotations.filter(contributor_id=reviewer.pk).exists():
        raise OwnAnswer("You answered this task yourself: someone else reviews it.")
    if Review.objects.filter(
        task=task, reviewer_id=reviewer.pk, judgements__judgement__in=OVERRULED
    ).exists():
        raise Overruled(
            "An appeal reversed your rejection on this task: another reviewer or a manager "
            "reviews it now."
        )
    if outcome.version != version:
        raise ReviewConflict(
            "This task changed since you opened it (another review or new answers). "
            "Reload it to see the latest before you decide."
        )
    return task, outcome


def _review_reject(
    *,
    review: Review,
    outcome: TaskOutcome,
    annotations: list[Annotation],
    wanted: list[int] | None,
    quality: dict,
    now,
) -> set[int]:
    """Reject the wanted answers (all when ``None``): they stop counting, their authors'
    standing moves, the task goes back to the queue (or each answer to its author, with
    ``rejected_to`` at ``author``). Returns the answers sent back."""
    project, task = review.project, review.task
    wanted_ids = {a.pk for a in annotations} if wanted is None else set(wanted)
    rejected = [a for a in annotations if a.pk in wanted_ids]
    if not rejected:
        raise ValidationError(
            {"annotations": ["Mark the answers that are wrong: only those are rejected."]}
        )
    for a in rejected:
        _standing_reviewed(project=project, user=a.contributor, ok=False, quality=quality)
    returned: set[int] = set()
    if quality.get("rejected_to") == "author":
        returned = _send_back(project=project, rejected=rejected, now=now)
    AnnotationReview.objects.bulk_create(
        AnnotationReview(
            review=review,
            annotation=a,
            judgement=AnswerJudgement.REJECTED,
            sent_back=a.pk in returned,
            result=a.result if a.pk in returned else None,
        )
        for a in rejected
    )
    answers_rejected(project=project, annotation_ids=[a.pk for a in rejected])
    Task.objects.filter(pk=task.pk).update(
        answer_count=F("answer_count") - len(rejected),
        lease_count=F("lease_count") + len(returned),
        status=TaskStatus.OPEN,
        updated_at=now,
    )
    TaskOutcome.objects.filter(pk=outcome.pk).update(
        review_reason="",
        review_priority=0,
        in_review_since=None,
        version=F("version") + 1,
    )
    return returned


def _review_accept(
    *,
    review: Review,
    outcome: TaskOutcome,
    annotations: list[Annotation],
    accepted: dict,
    quality: dict,
    now,
) -> None:
    """Accept ``accepted`` (the proposal, or the reviewer's fix): each answer is judged against
    it (accepted, or corrected under the gold pass score) and counts in its author's standing."""
    project = review.project
    kind = project.task_kind
    bar = gold_pass_score(quality)
    judgements = []
    for a in annotations:
        score = float(kind.score(a.result, accepted, schema=project.schema, quality=quality))
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
    accept(task=review.task, outcome=outcome, result=accepted, now=now)


REVIEW_PAUSE_PREFIX = "Paused automatically by reviews"  # how a review-made pause reads

SEND_BACK_WAIT = timedelta(days=7)  # how long a sent-back answer waits for its author


def _send_back(*, project: Project, rejected: list[Annotation], now) -> set[int]:
    """Give each rejected answer back to its author, who may still label here, to correct it;
    return the ids of the answers sent back.

    The author's own assignment becomes their live lease again, with the rejected answer as its
    draft: their next task is this one (the queue hands a live lease out first), its slot is
    held for them (the caller counts it in ``lease_count``), and when the wait runs out the
    queue reclaims it for someone else like any lease. Their correction replaces the answer
    (``annotation.queue.annotation_submit``). A paused author, or one no longer a contributor
    of the project, leaves the task to others as usual. The assignment is locked after the task
    (the reverse of the queue's order): the queue never locks a submitted assignment and then a
    task, so the two cannot wait on each other.
    """
    active = set(
        ProjectContributor.objects.filter(
            project=project,
            user_id__in=[a.contributor_id for a in rejected],
            status=ContributorStatus.ACTIVE,
        ).values_list("user_id", flat=True)
    )
    returned = set()
    for a in rejected:
        if a.contributor_id not in active or not can_label(user=a.contributor, project=project):
            continue
        Assignment.objects.filter(pk=a.assignment_id).update(
            status=AssignmentStatus.ACTIVE,
            lease_expires_at=now + SEND_BACK_WAIT,
            draft=a.result,
            draft_saved_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        returned.add(a.pk)
    return returned


def answer_revised(*, annotation_id: int) -> None:
    """The hook the queue calls when a sent-back answer comes back corrected (in the submit's
    transaction): it counts again in consensus and exports, and "my work" says so."""
    AnnotationReview.objects.filter(
        annotation_id=annotation_id, judgement=AnswerJudgement.REJECTED, sent_back=True
    ).update(judgement=AnswerJudgement.REVISED)


def _standing_for(*, project: Project, user: AbstractBaseUser) -> ContributorStanding | None:
    pc = ProjectContributor.objects.filter(project=project, user=user).only("pk").first()
    if pc is None:
        return None
    standing, _ = ContributorStanding.objects.get_or_create(contributor=pc)
    return standing


def _standings_lock(*, project: Project, user_ids: list[int]) -> None:
    """Lock the reviewed contributors' standing rows in id order before any contributor row:
    the quality step takes them in that order too, so the two never wait on each other."""
    list(
        ContributorStanding.objects.select_for_update(of=("self",))
        .filter(contributor__project=project, contributor__user_id__in=user_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


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
        pc.pause_reason = f"{REVIEW_PAUSE_PREFIX}: {rule.words}"
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
        send_to_review(task=task, outcome=outcome, reason=ReviewReason.FLAGGED, note=words)
    return outcome


# --- a rejection reversed on appeal ----------------------------------------------------------


@dataclass(frozen=True)
class RejectionReversed:
    """What a reversal did: ``counts`` when the answer counts toward its task again (else it is
    reinstated for its author's record and pay only: others had finished the task), and the
    task's status afterwards."""

    judgement: AnnotationReview
    task: Task
    counts: bool
    lease_ended: bool
    resumed: bool


def rejection_reverse(
    *, judgement_id: int, project: Project, actor: AbstractBaseUser, reason: str
) -> RejectionReversed:
    """Undo a rejection (an appeal reversed it), inside the caller's transaction.

    The judgement becomes ``reinstated`` and the answer counts again when its task can take it:
    the author's sent-back lease is still live (the lease ends: its slot turns into the answer,
    as a submit would), or the task is open with a free slot (``answer_count + lease_count <
    overlap``). When that completes the overlap, the task is ``annotated`` and consolidated
    through the quality step's own path (consensus, agreement, review or acceptance). Otherwise
    others have finished the task: its result stays, and the judgement becomes
    ``reinstated_record`` (for the author's record and pay; it stays out of the task's answers).
    The author's standing moves back (one review error fewer, one accepted more, the review
    stage recomputed), and a pause the reviews made automatically is lifted when the record,
    recounted, no longer calls for one (a pause on the accuracy floor or a manager's stays).

    Lock order as the queue's and the reviews': the author's assignment, then the task, then
    standing rows in id order, then contributor rows. Raises :class:`ReviewRefusal` when the
    answer is no longer rejected (its author corrected it, or it was reinstated already) and
    ``AnnotationReview.DoesNotExist`` outside ``project``.
    """
    judgement = AnnotationReview.objects.select_related("annotation", "review").get(
        pk=judgement_id, review__project=project
    )
    annotation = judgement.annotation
    now = timezone.now()
    assignment = Assignment.objects.select_for_update(of=("self",)).get(pk=annotation.assignment_id)
    task = Task.objects.select_for_update(of=("self",)).get(pk=annotation.task_id)
    task.project = project
    judgement.refresh_from_db(fields=["judgement", "sent_back"])
    if judgement.judgement != AnswerJudgement.REJECTED:
        raise ReviewRefusal(
            "This answer is no longer rejected (its author corrected it, or it was reinstated)."
        )
    quality = quality_with_defaults(project.quality)
    lease_ended = judgement.sent_back and assignment.status == AssignmentStatus.ACTIVE
    free_slot = (
        task.status == TaskStatus.OPEN
        and not task.is_gold
        and task.answer_count + task.lease_count < task.overlap
    )
    counts = lease_ended or free_slot
    completes = counts and task.status == TaskStatus.OPEN and task.answer_count + 1 >= task.overlap
    others = (
        list(
            counted_answers_of(task)
            .exclude(pk=annotation.pk)
            .values_list("contributor_id", flat=True)
        )
        if completes
        else []
    )
    _standings_lock(project=project, user_ids=[annotation.contributor_id, *others])
    if lease_ended:
        Assignment.objects.filter(pk=assignment.pk).update(
            status=AssignmentStatus.SUBMITTED,
            draft=None,
            version=F("version") + 1,
            updated_at=now,
        )
    if counts:
        Task.objects.filter(pk=task.pk).update(
            answer_count=F("answer_count") + 1,
            lease_count=F("lease_count") - (1 if lease_ended else 0),
            status=TaskStatus.ANNOTATED if completes else F("status"),
            updated_at=now,
        )
    AnnotationReview.objects.filter(pk=judgement.pk).update(
        judgement=AnswerJudgement.REINSTATED if counts else AnswerJudgement.REINSTATED_RECORD
    )
    resumed = _standing_review_reversed(
        project=project,
        user_id=annotation.contributor_id,
        quality=quality,
        actor=actor,
        reason=reason,
    )
    task.refresh_from_db()
    if completes:
        tasks_consolidate(project=project, quality=quality, tasks=[task], now=now)
        task.refresh_from_db()
    judgement.refresh_from_db()
    return RejectionReversed(
        judgement=judgement, task=task, counts=counts, lease_ended=lease_ended, resumed=resumed
    )


def counted_answers_of(task: Task):
    return task.annotations.exclude(quality_reviews__judgement__in=NOT_COUNTED)


def _standing_review_reversed(
    *, project: Project, user_id: int, quality: dict, actor, reason: str
) -> bool:
    """Take one review error back (it counts as accepted now) and recompute the review stage;
    lift a pause the reviews made when the recounted record no longer calls for one. True when
    the contributor was resumed. The caller holds the standing row's lock."""
    standing = (
        ContributorStanding.objects.filter(
            contributor__project=project, contributor__user_id=user_id
        )
        .only("pk", "contributor_id")
        .first()
    )
    if standing is None:
        return False
    ContributorStanding.objects.filter(pk=standing.pk, review_error_count__gt=0).update(
        review_error_count=F("review_error_count") - 1,
        review_accepted_count=F("review_accepted_count") + 1,
    )
    pc = (
        ProjectContributor.objects.select_for_update(of=("self",))
        .select_related("user", "standing")
        .get(pk=standing.contributor_id)
    )
    name = pc.user.get_full_name() or pc.user.get_username()
    rule = review_rule_for(pc=pc, quality=quality, name=name)
    ContributorStanding.objects.filter(pk=standing.pk).update(review_stage=rule.decision.stage)
    if (
        pc.status == ContributorStatus.PAUSED
        and pc.standing.paused_automatically
        and pc.pause_reason.startswith(REVIEW_PAUSE_PREFIX)
        and rule.decision.stage != Stage.PAUSED
    ):
        _resume(
            pc=pc,
            project=project,
            actor=actor,
            summary=f"{person_name(pc.user)} may work again: a rejection behind the pause "
            f"was reversed on appeal: {reason}",
        )
        return True
    return False


# --- manager actions on contributors -------------------------------------------------------


def _contributor_for_update(*, project: Project, user_id: int) -> ProjectContributor:
    """The person's contributor row on the project, locked; out-of-range ids match nothing."""
    return (
        ProjectContributor.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(project=project, user__pk=user_id)
    )


PAUSE_REASON_LIMIT = 500  # the contributor reads it; the API and the dashboard say so


def contributor_pause(
    *, project: Project, user_id: int, actor: AbstractBaseUser, reason: str = ""
) -> ProjectContributor:
    """Pause a contributor on the project; the queue refuses them work with the reason.

    A disqualified contributor stays disqualified (pausing would let a resume readmit them).
    A reason over ``PAUSE_REASON_LIMIT`` characters is refused (``ValidationError``), not cut.
    """
    if len(reason.strip()) > PAUSE_REASON_LIMIT:
        raise ValidationError(
            {
                "reason": [
                    f"Up to {PAUSE_REASON_LIMIT} characters; this one has {len(reason.strip())}."
                ]
            }
        )
    with transaction.atomic(durable=True):
        pc = _contributor_for_update(project=project, user_id=user_id)
        if pc.status == ContributorStatus.DISQUALIFIED:
            return pc
        name = actor.get_full_name() or actor.get_username()
        before = {"status": pc.status, "pause_reason": pc.pause_reason}
        pc.status = ContributorStatus.PAUSED
        pc.pause_reason = reason.strip() or f"Paused by {name}."
        pc.save(update_fields=["status", "pause_reason", "updated_at"])
        ContributorStanding.objects.filter(contributor=pc).update(paused_automatically=False)
        audit_record(
            actor=actor,
            action=AuditAction.CONTRIBUTOR_PAUSED,
            project=project,
            summary=f"{person_name(pc.user)}: {pc.pause_reason}",
            changes=changed_fields(before, {"status": pc.status, "pause_reason": pc.pause_reason}),
        )
    return pc


def contributor_resume(
    *, project: Project, user_id: int, actor: AbstractBaseUser
) -> ProjectContributor:
    """Let a paused contributor work again (a disqualified one stays out)."""
    with transaction.atomic(durable=True):
        pc = _contributor_for_update(project=project, user_id=user_id)
        _resume(
            pc=pc, project=project, actor=actor, summary=f"{person_name(pc.user)} may work again."
        )
    return pc


def contributor_resume_on_appeal(
    *, project: Project, user_id: int, actor: AbstractBaseUser, reason: str
) -> ProjectContributor:
    """Resume a contributor whose appeal of their pause was upheld for them (reversed), inside
    the caller's transaction (the appeal's decision); the decider's ``reason`` goes in the audit
    record. Nothing changes for someone no longer paused. The caller holds no task lock."""
    pc = _contributor_for_update(project=project, user_id=user_id)
    _resume(
        pc=pc,
        project=project,
        actor=actor,
        summary=f"{person_name(pc.user)} may work again: pause reversed on appeal: {reason}",
    )
    return pc


def _resume(*, pc: ProjectContributor, project: Project, actor, summary: str) -> None:
    """Resume ``pc`` (locked by the caller) if paused, with an audit record."""
    if pc.status != ContributorStatus.PAUSED:
        return
    before = {"status": pc.status, "pause_reason": pc.pause_reason}
    pc.status = ContributorStatus.ACTIVE
    pc.pause_reason = ""
    pc.save(update_fields=["status", "pause_reason", "updated_at"])
    ContributorStanding.objects.filter(contributor=pc).update(paused_automatically=False)
    audit_record(
        actor=actor,
        action=AuditAction.CONTRIBUTOR_RESUMED,
        project=project,
        summary=summary,
        changes=changed_fields(before, {"status": pc.status, "pause_reason": ""}),
    )
