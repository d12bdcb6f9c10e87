"""Filing and deciding appeals: who may, once only, and what a reversal undoes."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from annotation import queue
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    ContributorStatus,
    ProjectContributor,
    TaskStatus,
)
from appeals.models import Appeal, AppealStatus
from appeals.services import (
    AppealRefusal,
    appeal_decide,
    appeal_file_pause,
    appeal_file_rejection,
)
from labelhub.models import AuditAction, AuditEvent, ProjectMember, Role
from pay.models import Earning, EarningEvent
from quality.models import AnswerJudgement, ContributorStanding
from quality.services import contributor_pause
from tests.appeals.helpers import rejected_answer
from tests.factories import make_user
from tests.pay.helpers import answer

pytestmark = pytest.mark.django_db


def earned(user) -> Decimal:
    return Earning.objects.filter(person=user).aggregate(total=Sum("amount"))["total"]


def standing_of(user, project) -> ContributorStanding:
    return ContributorStanding.objects.get(contributor__project=project, contributor__user=user)


def test_a_reversal_on_appeal_restores_standing_and_pay(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    project, people, _reviewer, manager, task, annotation, judgement = rejected_answer(capture)
    ana = people[0]
    assert earned(ana) == Decimal("0.10")  # the rejected rate
    before = standing_of(ana, project)
    assert (before.review_error_count, before.review_accepted_count) == (1, 0)
    assert (task.status, task.answer_count) == (TaskStatus.OPEN, 0)

    appeal = appeal_file_rejection(annotation_id=annotation.pk, user=ana, comment="A is right.")
    with capture(execute=True):
        decided = appeal_decide(
            appeal_id=appeal.pk,
            project=project,
            actor=manager,
            decision="reverse",
            reason="A answers it; the reviewer misread.",
        )
    assert decided.status == AppealStatus.REVERSED
    after = standing_of(ana, project)
    assert (after.review_error_count, after.review_accepted_count) == (0, 1)
    assert after.reviewed_count == before.reviewed_count
    assert earned(ana) == Decimal("0.50")  # the accepted rate again
    reversal = Earning.objects.get(person=ana, event=EarningEvent.APPEAL_REVERSED)
    assert reversal.amount == Decimal("0.40")
    # The answer counts again: the task's one slot was free, so it is complete and judged
    # through the normal path (the project reviews every answer: back in review).
    judgement.refresh_from_db()
    assert judgement.judgement == AnswerJudgement.REINSTATED
    task.refresh_from_db()
    assert task.answer_count == 1
    assert task.status == TaskStatus.IN_REVIEW
    assert task.outcome.proposal["preference"] == "a"
    actions = set(AuditEvent.objects.filter(project=project).values_list("action", flat=True))
    assert {AuditAction.APPEAL_FILED, AuditAction.APPEAL_DECIDED} <= actions


def test_upholding_changes_nothing_but_the_appeal(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    project, people, _reviewer, manager, task, annotation, judgement = rejected_answer(capture)
    ana = people[0]
    appeal = appeal_file_rejection(annotation_id=annotation.pk, user=ana, comment="A is right.")
    paid, standing = earned(ana), standing_of(ana, project)
    decided = appeal_decide(
        appeal_id=appeal.pk, project=project, actor=manager, decision="uphold", reason="A is off."
    )
    assert (decided.status, decided.decided_by, decided.decision_reason) == (
        AppealStatus.UPHELD,
        manager,
        "A is off.",
    )
    judgement.refresh_from_db()
    task.refresh_from_db()
    assert judgement.judgement == AnswerJudgement.REJECTED
    assert (task.status, task.answer_count) == (TaskStatus.OPEN, 0)
    assert earned(ana) == paid
    after = standing_of(ana, project)
    assert (after.review_error_count, after.review_accepted_count) == (
        standing.review_error_count,
        standing.review_accepted_count,
    )
    # Final: the rejection cannot be appealed again.
    with pytest.raises(ValidationError) as refused:
        appeal_file_rejection(annotation_id=annotation.pk, user=ana, comment="Again.")
    assert "annotation" in refused.value.message_dict


def test_only_the_author_appeals_and_only_once_while_open(django_capture_on_commit_callbacks):
    _project, people, reviewer, manager, _task, annotation, _ = rejected_answer(
        django_capture_on_commit_callbacks, contributors=2
    )
    for intruder in (people[1], reviewer, manager, make_user()):
        with pytest.raises(ValidationError) as refused:
            appeal_file_rejection(annotation_id=annotation.pk, user=intruder, comment="Mine!")
        assert refused.value.message_dict == {"annotation": ["No answer of yours with this id."]}
    with pytest.raises(ValidationError) as empty:
        appeal_file_rejection(annotation_id=annotation.pk, user=people[0], comment="  ")
    assert "comment" in empty.value.message_dict
    with pytest.raises(ValidationError):
        appeal_file_rejection(annotation_id=annotation.pk, user=people[0], comment="x" * 2001)
    appeal_file_rejection(annotation_id=annotation.pk, user=people[0], comment="A is right.")
    with pytest.raises(ValidationError):
        appeal_file_rejection(annotation_id=annotation.pk, user=people[0], comment="Again.")
    assert Appeal.objects.count() == 1


def test_the_database_holds_one_appeal_per_rejection(django_capture_on_commit_callbacks):
    project, people, *_, judgement = rejected_answer(django_capture_on_commit_callbacks)
    fields = {"project": project, "contributor": people[0], "subject": "rejection"}
    Appeal.objects.create(**fields, rejection=judgement, comment="a", filed_at="2026-12-01T00:00Z")
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.create(
            **fields, rejection=judgement, comment="b", filed_at="2026-12-01T00:00Z"
        )


def test_who_decides(django_capture_on_commit_callbacks):
    """Managers and reviewers, but a reviewer not on their own rejection, nobody on their own
    appeal, and nobody from outside the project."""
    project, people, reviewer, manager, _task, annotation, _ = rejected_answer(
        django_capture_on_commit_callbacks
    )
    appeal = appeal_file_rejection(annotation_id=annotation.pk, user=people[0], comment="Why?")
    decide = {"appeal_id": appeal.pk, "project": project, "decision": "uphold", "reason": "No."}
    with pytest.raises(AppealRefusal) as own_rejection:
        appeal_decide(actor=reviewer, **decide)
    assert own_rejection.value.status == 403
    with pytest.raises(AppealRefusal):
        appeal_decide(actor=people[0], **decide)  # the appellant
    # The appellant also reviews here: still not on their own appeal.
    ProjectMember.objects.create(project=project, user=people[0], role=Role.REVIEWER)
    with pytest.raises(AppealRefusal) as own_appeal:
        appeal_decide(actor=people[0], **decide)
    assert "You filed this appeal" in own_appeal.value.message
    with pytest.raises(ValidationError):
        appeal_decide(actor=manager, **{**decide, "reason": ""})
    second_reviewer = make_user()
    ProjectMember.objects.create(project=project, user=second_reviewer, role=Role.REVIEWER)
    assert appeal_decide(actor=second_reviewer, **decide).status == AppealStatus.UPHELD
    with pytest.raises(AppealRefusal) as again:
        appeal_decide(actor=manager, **decide)
    assert (again.value.status, again.value.code) == (409, "decided")


def test_a_sent_back_answer_reinstated_ends_its_authors_lease(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    quality = {"review_policy": "share", "review_share": 1.0, "rejected_to": "author"}
    project, people, _, manager, task, annotation, _judgement = rejected_answer(
        capture, quality=quality
    )
    assert (task.answer_count, task.lease_count) == (0, 1)
    appeal = appeal_file_rejection(annotation_id=annotation.pk, user=people[0], comment="Fine.")
    with capture(execute=True):
        appeal_decide(
            appeal_id=appeal.pk, project=project, actor=manager, decision="reverse", reason="OK"
        )
    task.refresh_from_db()
    assert (task.answer_count, task.lease_count) == (1, 0)
    assert task.status == TaskStatus.IN_REVIEW
    assignment = Assignment.objects.get(pk=annotation.assignment_id)
    assert assignment.status == AssignmentStatus.SUBMITTED
    assert queue.assignment_claim_next(project=project, contributor=people[0]) is None


def test_when_others_finished_the_task_it_counts_for_the_record_only(
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    quality = {"review_policy": "none", "rejected_to": "others"}
    project, people, _reviewer, manager, task, annotation, judgement = rejected_answer(
        capture, quality={"review_policy": "share", "review_share": 1.0}, contributors=2
    )
    from labelhub.models import Project

    Project.objects.filter(pk=project.pk).update(quality={**project.quality, **quality})
    project.refresh_from_db()
    answer(capture, project=project, user=people[1], preference="b")  # fills the slot
    task.refresh_from_db()
    assert (task.status, task.answer_count) == (TaskStatus.ACCEPTED, 1)
    appeal = appeal_file_rejection(annotation_id=annotation.pk, user=people[0], comment="Mine.")
    with capture(execute=True):
        appeal_decide(
            appeal_id=appeal.pk, project=project, actor=manager, decision="reverse", reason="OK"
        )
    judgement.refresh_from_db()
    assert judgement.judgement == AnswerJudgement.REINSTATED_RECORD
    task.refresh_from_db()
    assert (task.status, task.answer_count) == (TaskStatus.ACCEPTED, 1)
    assert task.outcome.accepted_result["preference"] == "b"
    assert earned(people[0]) == Decimal("0.50")
    # It stays out of the task's answers (consensus, exports, a later review's rejection).
    from quality.selectors import counted_annotations

    assert list(counted_annotations(task)) == [Annotation.objects.get(contributor=people[1])]


def test_a_corrected_answer_cannot_be_appealed(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    quality = {"review_policy": "share", "review_share": 1.0, "rejected_to": "author"}
    project, people, *_ = rejected_answer(capture, quality=quality)
    ana = people[0]
    lease = queue.assignment_claim_next(project=project, contributor=ana)
    with capture(execute=True):
        queue.annotation_submit(
            assignment_id=lease.pk, contributor=ana, result={"preference": "b", "strength": 1}
        )
    with pytest.raises(ValidationError):
        appeal_file_rejection(
            annotation_id=Annotation.objects.get(contributor=ana).pk, user=ana, comment="x"
        )


def test_a_reversed_review_pause_is_lifted(django_capture_on_commit_callbacks):
    """A pause the reviews made: reversing the rejection behind it, when the record recounted no
    longer calls for a pause, lets the person work again."""
    capture = django_capture_on_commit_callbacks
    project, people, _reviewer, manager, _task, annotation, _ = rejected_answer(capture, tasks=2)
    ana = people[0]
    pc = ProjectContributor.objects.get(project=project, user=ana)
    pc.status, pc.pause_reason = ContributorStatus.PAUSED, "Paused automatically by reviews: …"
    pc.save()
    ContributorStanding.objects.filter(contributor=pc).update(paused_automatically=True)
    appeal = appeal_file_rejection(annotation_id=annotation.pk, user=ana, comment="A is right.")
    with capture(execute=True):
        appeal_decide(
            appeal_id=appeal.pk, project=project, actor=manager, decision="reverse", reason="OK"
        )
    pc.refresh_from_db()
    assert pc.status == ContributorStatus.ACTIVE
    assert AuditEvent.objects.filter(action=AuditAction.CONTRIBUTOR_RESUMED).exists()


def test_a_pause_appeal_reversed_resumes_the_contributor(django_capture_on_commit_callbacks):
    project, people, reviewer, manager, *_ = rejected_answer(django_capture_on_commit_callbacks)
    ana = people[0]
    with pytest.raises(ValidationError):  # not paused
        appeal_file_pause(project=project, user=ana, comment="Let me work.")
    contributor_pause(project=project, user_id=ana.pk, actor=manager, reason="Too fast.")
    appeal = appeal_file_pause(project=project, user=ana, comment="I was careful.")
    assert (appeal.pause_reason, appeal.pause_automatic) == ("Too fast.", False)
    with pytest.raises(ValidationError):  # one open appeal per pause
        appeal_file_pause(project=project, user=ana, comment="Again.")
    decide = {"appeal_id": appeal.pk, "project": project, "reason": "Checked: fine."}
    with pytest.raises(AppealRefusal):  # a pause is a manager's
        appeal_decide(actor=reviewer, decision="reverse", **decide)
    appeal_decide(actor=manager, decision="reverse", **decide)
    pc = ProjectContributor.objects.get(project=project, user=ana)
    assert (pc.status, pc.pause_reason) == (ContributorStatus.ACTIVE, "")
    resumed = AuditEvent.objects.get(action=AuditAction.CONTRIBUTOR_RESUMED)
    assert "Checked: fine." in resumed.summary


def test_an_upheld_pause_appeal_is_final_for_that_pause(django_capture_on_commit_callbacks):
    project, people, _reviewer, manager, *_ = rejected_answer(django_capture_on_commit_callbacks)
    ana = people[0]
    contributor_pause(project=project, user_id=ana.pk, actor=manager, reason="Too fast.")
    appeal = appeal_file_pause(project=project, user=ana, comment="I was careful.")
    appeal_decide(
        appeal_id=appeal.pk, project=project, actor=manager, decision="uphold", reason="No."
    )
    assert ProjectContributor.objects.get(project=project, user=ana).status == "paused"
    with pytest.raises(ValidationError):
        appeal_file_pause(project=project, user=ana, comment="Please.")
