"""Appeal writes: filing one (a rejection of an answer, or a pause) and deciding it.

A decision is one transaction: the appeal's row is locked first (two deciders at once: the
second waits, then finds it decided), then a reversal undoes the effects through quality's own
services in their lock order (assignment, task, standing rows in id order, contributor rows)
and settles the answer's pay in the ledger. Audit records are written in the same transaction.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotation.models import Annotation, ContributorStatus, ProjectContributor
from appeals.models import (
    COMMENT_LIMIT,
    REASON_LIMIT,
    Appeal,
    AppealStatus,
    AppealSubject,
    Decision,
)
from labelhub.audit import audit_record
from labelhub.models import AuditAction, Project
from labelhub.permissions import can_label, can_manage, can_review
from labelhub.refusals import Refusal
from pay.ledger import annotations_settle
from pay.models import EarningEvent
from quality import services as quality_services
from quality.models import AnnotationReview, AnswerJudgement


class AppealRefusal(Refusal):
    """An appeal or a decision that cannot be made, with a message for the person."""


def _clean_text(value: str, *, field: str, limit: int, missing: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [missing]})
    if len(text) > limit:
        raise ValidationError({field: [f"Up to {limit:,} characters; this one has {len(text):,}."]})
    return text


# --- filing -----------------------------------------------------------------------------------


def appealable_rejection(*, annotation: Annotation) -> AnnotationReview | None:
    """The rejection of ``annotation`` its author may still appeal: the latest judgement is a
    rejection (not corrected since) that was never appealed."""
    latest = (
        AnnotationReview.objects.filter(annotation=annotation)
        .order_by("-review__created_at", "-pk")
        .first()
    )
    if latest is None or latest.judgement != AnswerJudgement.REJECTED:
        return None
    if Appeal.objects.filter(rejection=latest).exists():
        return None
    return latest


def appeal_file_rejection(
    *, annotation_id: int, user: AbstractBaseUser, comment: str, project: Project | None = None
) -> Appeal:
    """The author of a rejected answer appeals the rejection with ``comment``.

    Only the answer's author, while they may label the project and while the answer is still
    rejected (not corrected since); once per rejection. Refusals are ``ValidationError`` keyed
    by field (``annotation``, ``comment``); someone else's answer reads like a missing one.
    """
    comment = _clean_text(
        comment, field="comment", limit=COMMENT_LIMIT, missing="Say why the rejection is wrong."
    )
    answers = Annotation.objects.select_related("task__project__organization").filter(
        pk=annotation_id, contributor_id=user.pk
    )
    if project is not None:
        answers = answers.filter(task__project=project)
    annotation = answers.first()
    if annotation is None or not can_label(user=user, project=annotation.task.project):
        raise ValidationError({"annotation": ["No answer of yours with this id."]})
    project = annotation.task.project
    with transaction.atomic(durable=True):
        rejection = appealable_rejection(annotation=annotation)
        if rejection is None:
            raise ValidationError(
                {
                    "annotation": [
                        "Only a rejected answer can be appealed, once: this one is not rejected "
                        "now, or its appeal is decided or waiting."
                    ]
                }
            )
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    project=project,
                    contributor=user,
                    subject=AppealSubject.REJECTION,
                    rejection=rejection,
                    comment=comment,
                    filed_at=timezone.now(),
                )
        except IntegrityError:  # a second tab filed it a moment ago
            raise ValidationError({"annotation": ["This rejection is appealed already."]}) from None
        audit_record(
            actor=user,
            action=AuditAction.APPEAL_FILED,
            project=project,
            summary=f"{user.get_username()} appeals the rejection of their answer to task "
            f"{annotation.task_id}: {comment[:200]}",
            changes={"appeal": appeal.pk, "subject": appeal.subject, "annotation": annotation.pk},
        )
    return appeal


def appealable_pause(*, pc: ProjectContributor | None) -> bool:
    """A paused contributor may appeal the pause once: not while an appeal of it is open, nor
    after one was decided while the same pause (the same reason) stands."""
    if pc is None or pc.status != ContributorStatus.PAUSED:
        return False
    return (
        not Appeal.objects.filter(pause=pc).filter(status=AppealStatus.OPEN).exists()
        and not Appeal.objects.filter(pause=pc, pause_reason=pc.pause_reason).exists()
    )


def appeal_file_pause(*, project: Project, user: AbstractBaseUser, comment: str) -> Appeal:
    """A paused contributor appeals their pause on ``project`` (automatic or a manager's)."""
    comment = _clean_text(
        comment, field="comment", limit=COMMENT_LIMIT, missing="Say why the pause is wrong."
    )
    with transaction.atomic(durable=True):
        pc = (
            ProjectContributor.objects.select_for_update(of=("self",))
            .select_related("standing")
            .filter(project=project, user_id=user.pk)
            .first()
        )
        if not appealable_pause(pc=pc):
            raise ValidationError(
                {
                    "pause": [
                        "You are not paused on this project, or this pause is appealed already."
                    ]
                }
            )
        standing = getattr(pc, "standing", None)
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    project=project,
                    contributor=user,
                    subject=AppealSubject.PAUSE,
                    pause=pc,
                    pause_reason=pc.pause_reason,
                    pause_automatic=bool(standing and standing.paused_automatically),
                    comment=comment,
                    filed_at=timezone.now(),
                )
        except IntegrityError:
            raise ValidationError({"pause": ["This pause is appealed already."]}) from None
        audit_record(
            actor=user,
            action=AuditAction.APPEAL_FILED,
            project=project,
            summary=f"{user.get_username()} appeals their pause: {comment[:200]}",
            changes={"appeal": appeal.pk, "subject": appeal.subject},
        )
    return appeal


# --- deciding ---------------------------------------------------------------------------------


def may_decide(*, appeal: Appeal, user: AbstractBaseUser) -> str:
    """Why ``user`` may not decide ``appeal`` ("" when they may). A rejection: the project's
    managers and reviewers, but a reviewer not on a rejection they made (a manager may). A
    pause: managers only (only they pause and resume people). Never one's own appeal."""
    project = appeal.project
    if appeal.contributor_id == user.pk:
        return "You filed this appeal: someone else decides it."
    if appeal.subject == AppealSubject.PAUSE:
        if not can_manage(user=user, project=project):
            return "A pause is decided by a manager of the project."
        return ""
    if not can_review(user=user, project=project):
        return "Appeals are decided by the project's managers and reviewers."
    if appeal.rejection.review.reviewer_id == user.pk and not can_manage(
        user=user, project=project
    ):
        return "You made this rejection: another reviewer or a manager decides its appeal."
    return ""


def appeal_decide(
    *, appeal_id: int, project: Project, actor: AbstractBaseUser, decision: str, reason: str
) -> Appeal:
    """Uphold or reverse an open appeal of ``project`` with the decider's ``reason``.

    Upholding changes nothing but the appeal. Reversing a rejection reinstates the answer
    (``quality.services.rejection_reverse``: standing, task state) and settles its pay; reversing
    a pause resumes the contributor. Raises ``Appeal.DoesNotExist`` outside ``project``,
    ``ValidationError`` for a missing decision or reason, :class:`AppealRefusal` when the actor
    may not decide it (403) or it is decided already (409).
    """
    if decision not in Decision.values:
        raise ValidationError({"decision": ["The decision is uphold or reverse."]})
    reason = _clean_text(
        reason,
        field="reason",
        limit=REASON_LIMIT,
        missing="Give the reason for the decision: the contributor reads it.",
    )
    with transaction.atomic(durable=True):
        appeal = (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("project__organization", "contributor", "rejection__review")
            .get(pk=appeal_id, project=project)
        )
        if not appeal.is_open:
            raise AppealRefusal(
                f"This appeal was {appeal.get_status_display().lower()} already: "
                "reload to see the decision.",
                code="decided",
            )
        if why := may_decide(appeal=appeal, user=actor):
            raise AppealRefusal(why, code="not_yours", status=403)
        now = timezone.now()
        changes: dict = {"appeal": appeal.pk, "subject": appeal.subject, "decision": decision}
        if decision == Decision.REVERSE:
            if appeal.subject == AppealSubject.REJECTION:
                try:
                    done = quality_services.rejection_reverse(
                        judgement_id=appeal.rejection_id,
                        project=project,
                        actor=actor,
                        reason=reason,
                    )
                except quality_services.ReviewRefusal as refusal:
                    raise AppealRefusal(refusal.message) from None
                annotations_settle(
                    annotation_ids=[done.judgement.annotation_id],
                    event=EarningEvent.APPEAL_REVERSED,
                    note=f"Appeal {appeal.pk}",
                )
                changes.update(
                    annotation=done.judgement.annotation_id,
                    counts=done.counts,
                    task_status=done.task.status,
                    resumed=done.resumed,
                )
            else:
                quality_services.contributor_resume_on_appeal(
                    project=project, user_id=appeal.contributor_id, actor=actor, reason=reason
                )
        appeal.status = (
            AppealStatus.REVERSED if decision == Decision.REVERSE else AppealStatus.UPHELD
        )
        appeal.decided_by = actor
        appeal.decision_reason = reason
        appeal.decided_at = now
        appeal.save(update_fields=["status", "decided_by", "decision_reason", "decided_at"])
        audit_record(
            actor=actor,
            action=AuditAction.APPEAL_DECIDED,
            project=project,
            summary=f"Appeal {appeal.pk} of {appeal.contributor.get_username()} "
            f"({appeal.get_subject_display().lower()}) {appeal.status}: {reason[:200]}",
            changes=changes,
        )
    return appeal
