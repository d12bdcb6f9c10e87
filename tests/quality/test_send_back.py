"""A rejected answer sent back to its author (the project's ``rejected_to`` is ``author``): the
author gets the task again with their answer and the reviewer's reason, and their correction
replaces the answer. On a small team nobody else may be there to take the slot."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from annotation import queue
from annotation.bulk import task_requeue
from annotation.events import assignment_notes
from annotation.models import Annotation, Assignment, AssignmentStatus, Task, TaskStatus
from labelhub.quality_bars import quality_clean
from quality.models import AnnotationReview, AnswerJudgement
from quality.services import contributor_pause, review_record
from tests.quality.helpers import answer_next, make_quality_project, make_ranking_tasks

pytestmark = pytest.mark.django_db

TO_AUTHOR = {"review_policy": "share", "review_share": 1.0, "rejected_to": "author"}


def rejected(capture, *, quality=TO_AUTHOR, contributors=1, pause_first=False):
    project, people, reviewer, manager = make_quality_project(
        contributors=contributors, quality=quality
    )
    (task,) = make_ranking_tasks(project, 1)
    answer_next(capture, project=project, user=people[0], preference="a")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    if pause_first:
        contributor_pause(project=project, user_id=people[0].pk, actor=manager)
    recorded = review_record(
        task_id=task.pk,
        project=project,
        reviewer=reviewer,
        verdict="reject",
        version=task.outcome.version,
        comment="B answers the question; A does not.",
    )
    task.refresh_from_db()
    return project, people, reviewer, task, recorded


def test_the_author_gets_the_task_back_with_their_answer_and_the_reason(
    django_capture_on_commit_callbacks,
):
    project, people, _, task, recorded = rejected(django_capture_on_commit_callbacks)
    ana = people[0]
    answer = Annotation.objects.get(task=task)
    assert recorded.sent_back == (answer.pk,)
    # The slot is held for her: open, no answer counted, one promised.
    assert (task.status, task.answer_count, task.lease_count) == (TaskStatus.OPEN, 0, 1)
    judgement = AnnotationReview.objects.get(annotation=answer)
    assert (judgement.judgement, judgement.sent_back) == (AnswerJudgement.REJECTED, True)
    assert judgement.result["preference"] == "a"

    lease = queue.assignment_claim_next(project=project, contributor=ana)
    assert lease.pk == answer.assignment_id
    assert lease.draft["preference"] == "a"
    assert lease.lease_expires_at > timezone.now() + timedelta(days=6)
    [note] = assignment_notes(assignment=lease)
    assert "B answers the question; A does not." in note
    # Saving a draft renews the lease, it does not cut the week short.
    saved = queue.assignment_save_draft(
        assignment_id=lease.pk, contributor=ana, result={"preference": "b", "strength": 1}
    )
    assert saved.lease_expires_at > timezone.now() + timedelta(days=6)


def test_the_correction_replaces_the_answer_and_is_judged_again(
    django_capture_on_commit_callbacks,
):
    project, people, reviewer, task, _ = rejected(django_capture_on_commit_callbacks)
    ana = people[0]
    lease = queue.assignment_claim_next(project=project, contributor=ana)
    with django_capture_on_commit_callbacks(execute=True):
        submission = queue.annotation_submit(
            assignment_id=lease.pk,
            contributor=ana,
            result={"preference": "b", "strength": 2},
            active_seconds=12,
        )
    assert submission.created
    assert Annotation.objects.filter(task=task).count() == 1
    answer = Annotation.objects.get(task=task)
    assert answer.result["preference"] == "b"
    assert answer.judged_at is not None  # judged again: consolidated and routed to review
    judgement = AnnotationReview.objects.get(annotation=answer)
    assert judgement.judgement == AnswerJudgement.REVISED
    assert judgement.result["preference"] == "a"  # what was rejected is kept
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW  # the project reviews every answer
    assert task.outcome.proposal["preference"] == "b"
    assert Assignment.objects.get(pk=lease.pk).status == AssignmentStatus.SUBMITTED
    assert assignment_notes(assignment=Assignment.objects.get(pk=lease.pk)) == []

    recorded = review_record(
        task_id=task.pk,
        project=project,
        reviewer=reviewer,
        verdict="accept",
        version=task.outcome.version,
    )
    assert recorded.task.status == TaskStatus.ACCEPTED
    assert recorded.outcome.accepted_result["preference"] == "b"
    # Nothing more for her: the task is done.
    assert queue.assignment_claim_next(project=project, contributor=ana) is None


def test_to_others_the_author_never_gets_it_again(django_capture_on_commit_callbacks):
    quality = {**TO_AUTHOR, "rejected_to": "others"}
    project, people, _, task, recorded = rejected(
        django_capture_on_commit_callbacks, quality=quality
    )
    assert recorded.sent_back == ()
    assert (task.status, task.answer_count, task.lease_count) == (TaskStatus.OPEN, 0, 0)
    assert queue.assignment_claim_next(project=project, contributor=people[0]) is None


def test_a_paused_author_leaves_the_task_to_others(django_capture_on_commit_callbacks):
    project, people, _, task, recorded = rejected(
        django_capture_on_commit_callbacks, contributors=2, pause_first=True
    )
    assert recorded.sent_back == ()
    assert task.lease_count == 0
    other = queue.assignment_claim_next(project=project, contributor=people[1])
    assert other.task_id == task.pk


def test_after_a_week_the_slot_goes_to_someone_else_and_the_answer_is_kept(
    django_capture_on_commit_callbacks,
):
    project, people, _, task, _ = rejected(django_capture_on_commit_callbacks, contributors=2)
    answer = Annotation.objects.get(task=task)
    Assignment.objects.filter(pk=answer.assignment_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    other = queue.assignment_claim_next(project=project, contributor=people[1])
    assert other.task_id == task.pk
    assert Assignment.objects.get(pk=answer.assignment_id).status == AssignmentStatus.EXPIRED
    # Re-queueing clears expired leases, never one that holds an answer.
    task_requeue(project=project, task_ids=[task.pk], actor=None)
    assert Annotation.objects.filter(pk=answer.pk).exists()


def test_marked_answers_only_and_none_marked_is_refused(django_capture_on_commit_callbacks):
    project, people, reviewer, _ = make_quality_project(contributors=2, quality=TO_AUTHOR)
    (task,) = make_ranking_tasks(project, 1, overlap=2)
    answer_next(django_capture_on_commit_callbacks, project=project, user=people[0], preference="a")
    answer_next(django_capture_on_commit_callbacks, project=project, user=people[1], preference="b")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    reject = {
        "task_id": task.pk,
        "project": project,
        "reviewer": reviewer,
        "verdict": "reject",
        "version": task.outcome.version,
        "comment": "A is wrong.",
    }
    with pytest.raises(ValidationError) as refused:
        review_record(**reject, reject_annotation_ids=[])
    assert "Mark the answers that are wrong" in refused.value.message_dict["annotations"][0]
    wrong = Annotation.objects.get(task=task, contributor=people[0])
    recorded = review_record(**reject, reject_annotation_ids=[wrong.pk])
    assert recorded.sent_back == (wrong.pk,)
    task.refresh_from_db()
    assert (task.answer_count, task.lease_count) == (1, 1)


def test_the_setting_is_a_quality_bar_with_two_values():
    assert quality_clean({})["rejected_to"] == "others"
    assert quality_clean({"rejected_to": "author"})["rejected_to"] == "author"
    with pytest.raises(ValidationError) as refused:
        quality_clean({"rejected_to": "reviewer"})
    assert "rejected_to" in refused.value.message_dict


def test_a_long_comment_is_refused_with_its_limit(django_capture_on_commit_callbacks):
    project, people, reviewer, _ = make_quality_project(contributors=1, quality=TO_AUTHOR)
    (task,) = make_ranking_tasks(project, 1)
    answer_next(django_capture_on_commit_callbacks, project=project, user=people[0], preference="a")
    task = Task.objects.get(pk=task.pk)
    with pytest.raises(ValidationError) as refused:
        review_record(
            task_id=task.pk,
            project=project,
            reviewer=reviewer,
            verdict="reject",
            version=task.outcome.version,
            comment="x" * 5001,
        )
    assert refused.value.message_dict["comment"] == ["Up to 5,000 characters; this one has 5,001."]
