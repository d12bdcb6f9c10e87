import pytest
from django.core.exceptions import ValidationError

from annotation import queue
from annotation.models import Task, TaskStatus, WebhookDelivery
from labelhub.models import AuditEvent
from quality.models import AnnotationReview, AnswerJudgement, ContributorStanding, ReviewReason
from quality.services import ReviewConflict, review_record, task_flag_for_review
from tests.quality.helpers import answer_next, make_quality_project, make_ranking_tasks

pytestmark = pytest.mark.django_db

ALWAYS = {"review_policy": "share", "review_share": 1.0}


def in_review_task(capture, *, contributors=2, quality=ALWAYS):
    project, people, reviewer, _manager = make_quality_project(
        contributors=contributors, quality=quality
    )
    (task,) = make_ranking_tasks(project, 1, callback_url="https://example.com/hook")
    answer_next(capture, project=project, user=people[0], preference="a")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    return project, people, reviewer, task


def test_fix_becomes_the_accepted_result_and_counts_against_the_contributor(
    django_capture_on_commit_callbacks,
):
    project, people, reviewer, task = in_review_task(django_capture_on_commit_callbacks)
    recorded = review_record(
        task_id=task.pk,
        project=project,
        reviewer=reviewer,
        verdict="fix",
        version=task.outcome.version,
        result={"preference": "b", "strength": 2},
    )
    assert recorded.task.status == TaskStatus.ACCEPTED
    assert recorded.outcome.accepted_result["preference"] == "b"
    assert WebhookDelivery.objects.get(task=task).payload["result"]["preference"] == "b"
    judgement = AnnotationReview.objects.get(review=recorded.review)
    assert judgement.judgement == AnswerJudgement.CORRECTED
    standing = ContributorStanding.objects.get(contributor__user=people[0])
    assert (standing.reviewed_count, standing.review_error_count) == (1, 1)
    assert AuditEvent.objects.filter(action="review.recorded", project=project).count() == 1


def test_accept_keeps_the_proposal_and_counts_for_the_contributor(
    django_capture_on_commit_callbacks,
):
    project, people, reviewer, task = in_review_task(django_capture_on_commit_callbacks)
    recorded = review_record(
        task_id=task.pk,
        project=project,
        reviewer=reviewer,
        verdict="accept",
        version=task.outcome.version,
    )
    assert recorded.outcome.accepted_result["preference"] == "a"
    standing = ContributorStanding.objects.get(contributor__user=people[0])
    assert (standing.reviewed_count, standing.review_accepted_count) == (1, 1)


def test_reject_sends_the_task_back_and_another_contributor_replaces_the_answer(
    django_capture_on_commit_callbacks,
):
    project, people, reviewer, task = in_review_task(django_capture_on_commit_callbacks)
    review_record(
        task_id=task.pk,
        project=project,
        reviewer=reviewer,
        verdict="reject",
        version=task.outcome.version,
        comment="B is clearly better.",
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert task.answer_count == 0
    # The rejected contributor never gets it again; the other one does.
    with django_capture_on_commit_callbacks(execute=True):
        assert queue.assignment_claim_next(project=project, contributor=people[0]) is None
    answer_next(django_capture_on_commit_callbacks, project=project, user=people[1], preference="b")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    assert task.outcome.proposal["preference"] == "b"  # the rejected answer left the consensus
    assert task.outcome.answers_used == 1


def test_reject_without_a_reason_is_refused(django_capture_on_commit_callbacks):
    project, _, reviewer, task = in_review_task(django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError):
        review_record(
            task_id=task.pk,
            project=project,
            reviewer=reviewer,
            verdict="reject",
            version=task.outcome.version,
        )


def test_stale_version_is_a_conflict_and_changes_nothing(django_capture_on_commit_callbacks):
    project, _, reviewer, task = in_review_task(django_capture_on_commit_callbacks)
    version = task.outcome.version
    review_record(
        task_id=task.pk, project=project, reviewer=reviewer, verdict="accept", version=version
    )
    with pytest.raises(ReviewConflict, match="no longer waiting for review"):
        review_record(
            task_id=task.pk,
            project=project,
            reviewer=reviewer,
            verdict="fix",
            version=version,
            result={"preference": "b"},
        )
    task_flag_for_review(task_id=task.pk, project=project, actor=reviewer)
    with pytest.raises(ReviewConflict, match="changed since you opened it"):
        review_record(
            task_id=task.pk, project=project, reviewer=reviewer, verdict="accept", version=version
        )
    assert Task.objects.get(pk=task.pk).outcome.review_reason == ReviewReason.FLAGGED


def test_review_of_a_task_in_another_project_is_not_found(django_capture_on_commit_callbacks):
    _, _, reviewer, task = in_review_task(django_capture_on_commit_callbacks)
    other, *_ = make_quality_project(contributors=1)
    with pytest.raises(Task.DoesNotExist):
        review_record(
            task_id=task.pk, project=other, reviewer=reviewer, verdict="accept", version=1
        )
