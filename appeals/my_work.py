"""What appeals add to the contributor's screens (through the hooks of annotation and quality):
under a pause, "Appeal this pause"; in My work, each rejected answer's appeal or the form to file
one, the person's appeals and pause, and their earnings when the pay app provides them."""

from django.urls import reverse

from annotation.models import ContributorStatus, ProjectContributor
from appeals.models import COMMENT_LIMIT, Appeal, AppealSubject
from appeals.selectors import appeals_of
from appeals.services import appealable_pause
from pay.selectors import earnings_summary
from quality.events import Part
from quality.models import AnswerJudgement


def pause_appeal_action(*, project, user) -> list[tuple[str, str]]:
    """Under the work screen's refusal: a paused contributor may appeal the pause. One query
    (two when paused)."""
    pc = (
        ProjectContributor.objects.filter(
            project=project, user_id=user.pk, status=ContributorStatus.PAUSED
        )
        .only("pk", "status", "pause_reason")
        .first()
    )
    if not appealable_pause(pc=pc):
        return []
    return [("Appeal this pause", reverse("appeals:file-pause", args=[project.pk]))]


def my_work_rows(*, project, user, annotations) -> dict[int, list[Part]]:
    """Per answer: its appeal and the outcome, or the form to appeal its rejection. One query."""
    ids = [a.pk for a in annotations]
    appeals = {
        appeal.rejection.annotation_id: appeal
        for appeal in Appeal.objects.filter(
            subject=AppealSubject.REJECTION, rejection__annotation_id__in=ids, contributor=user
        ).select_related("rejection")
    }
    parts: dict[int, list[Part]] = {}
    for annotation in annotations:
        judgements = getattr(annotation, "judgements", [])
        latest = judgements[0] if judgements else None
        appeal = appeals.get(annotation.pk)
        can_appeal = (
            appeal is None and latest is not None and latest.judgement == AnswerJudgement.REJECTED
        )
        if appeal is None and not can_appeal:
            continue
        parts[annotation.pk] = [
            Part(
                "appeals/_my_work_row.html",
                {
                    "appeal": appeal,
                    "can_appeal": can_appeal,
                    "annotation": annotation,
                    "project": project,
                    "limit": COMMENT_LIMIT,
                },
            )
        ]
    return parts


def my_work_summary_parts(*, project, user) -> list[Part]:
    """The earnings block (the pay app's figures), the pause with "Appeal this pause", and
    the person's appeals with their outcomes. Three queries."""
    parts = []
    earnings = earnings_summary(project=project, user=user)
    if earnings is not None:
        parts.append(
            Part(
                "appeals/_my_earnings.html",
                {"earnings": earnings, "project": project, "statements": _statements_url()},
            )
        )
    pc = ProjectContributor.objects.filter(project=project, user_id=user.pk).first()
    appeals = appeals_of(project=project, user=user)
    if pc is not None and pc.status == ContributorStatus.PAUSED:
        parts.append(
            Part(
                "appeals/_my_pause.html",
                {
                    "pc": pc,
                    "project": project,
                    "can_appeal": appealable_pause(pc=pc),
                    "open": [a for a in appeals if a.is_open and a.subject == AppealSubject.PAUSE],
                },
            )
        )
    if appeals:
        parts.append(Part("appeals/_my_appeals.html", {"appeals": appeals, "project": project}))
    return parts


def _statements_url() -> str:
    return reverse("pay:mine")
