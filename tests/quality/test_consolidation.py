import pytest

from annotation.models import (
    ContributorStatus,
    ProjectContributor,
    Task,
    TaskStatus,
    WebhookDelivery,
)
from labelhub.models import AuditEvent
from quality.models import ContributorStanding, ReviewReason, TaskOutcome
from tests.quality.helpers import answer_next, make_quality_project, make_ranking_tasks

pytestmark = pytest.mark.django_db

NO_REVIEW = {"review_policy": "none", "agreement_threshold": 0.7}


def test_agreeing_answers_are_consolidated_and_accepted_with_a_webhook(
    django_capture_on_commit_callbacks,
):
    project, people, *_ = make_quality_project(
        quality={"review_policy": "none", "agreement_threshold": 0.3}
    )
    (task,) = make_ranking_tasks(project, 1, overlap=3, callback_url="https://example.com/hook")
    for user in people[:2]:
        answer_next(django_capture_on_commit_callbacks, project=project, user=user, preference="a")
        task.refresh_from_db()
        assert task.status == TaskStatus.OPEN
        assert not TaskOutcome.objects.filter(task=task).exists()
    answer_next(django_capture_on_commit_callbacks, project=project, user=people[2], preference="b")

    task.refresh_from_db()
    outcome = task.outcome
    assert task.status == TaskStatus.ACCEPTED
    assert outcome.is_consensus
    assert outcome.proposal["preference"] == "a"
    assert outcome.accepted_result["preference"] == "a"
    assert outcome.agreement == pytest.approx(1 / 3)  # one pair of three agrees
    delivery = WebhookDelivery.objects.get(task=task)
    assert delivery.event == "task.accepted"
    assert delivery.payload["result"]["preference"] == "a"


def test_low_agreement_sends_the_task_to_review_instead_of_accepting(
    django_capture_on_commit_callbacks,
):
    project, people, *_ = make_quality_project(
        contributors=2, quality={"review_policy": "none", "agreement_threshold": 0.75}
    )
    (task,) = make_ranking_tasks(project, 1, overlap=2, callback_url="https://example.com/hook")
    answer_next(django_capture_on_commit_callbacks, project=project, user=people[0], preference="a")
    answer_next(django_capture_on_commit_callbacks, project=project, user=people[1], preference="b")

    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    assert task.outcome.review_reason == ReviewReason.LOW_AGREEMENT
    assert task.outcome.agreement == 0.0
    assert "under 75%" in task.outcome.review_note
    assert not WebhookDelivery.objects.filter(task=task).exists()


def test_single_answer_is_the_proposal_and_is_accepted_without_consensus(
    django_capture_on_commit_callbacks,
):
    project, people, *_ = make_quality_project(contributors=1, quality=NO_REVIEW)
    (task,) = make_ranking_tasks(project, 1)
    answer_next(django_capture_on_commit_callbacks, project=project, user=people[0], preference="b")
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
    assert not task.outcome.is_consensus
    assert task.outcome.agreement is None
    assert task.outcome.accepted_result == {
        "preference": "b",
        "strength": 1,
        "criteria": {},
        "rationale": "",
    }


def test_review_share_of_one_samples_every_task_with_the_rule_in_words(
    django_capture_on_commit_callbacks,
):
    project, people, *_ = make_quality_project(
        contributors=1, quality={"review_policy": "share", "review_share": 1.0}
    )
    (task,) = make_ranking_tasks(project, 1)
    answer_next(django_capture_on_commit_callbacks, project=project, user=people[0], preference="a")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    assert task.outcome.review_reason == ReviewReason.SAMPLED
    assert task.outcome.review_note == (
        "Reviewing every one of C0's tasks (the project's fixed share). Nothing of C0's has "
        "been checked yet, so there is no evidence either way."
    )


def test_adaptive_policy_reviews_every_task_of_a_new_contributor(
    django_capture_on_commit_callbacks,
):
    project, people, *_ = make_quality_project(
        contributors=1, quality={"review_policy": "adaptive", "review_share": 0.0}
    )
    make_ranking_tasks(project, 2)
    for _ in range(2):
        answer_next(
            django_capture_on_commit_callbacks, project=project, user=people[0], preference="a"
        )
    outcomes = TaskOutcome.objects.filter(project=project)
    assert [o.review_reason for o in outcomes] == [ReviewReason.SAMPLED] * 2
    assert all("first 10 tasks are all reviewed" in o.review_note for o in outcomes)


def test_submission_updates_standing_counters(django_capture_on_commit_callbacks):
    project, people, *_ = make_quality_project(contributors=2, quality=NO_REVIEW)
    make_ranking_tasks(project, 2, overlap=2)
    for user in people:
        for _ in range(2):
            answer_next(
                django_capture_on_commit_callbacks,
                project=project,
                user=user,
                preference="a" if user == people[0] else "b",
                seconds=40,
            )
    standing = ContributorStanding.objects.get(contributor__user=people[0])
    assert standing.submitted_count == 2
    assert standing.active_seconds == 80
    assert standing.first_submitted_at is not None
    assert standing.peer_agreement_count == 2
    assert standing.peer_agreement == 0.0


def test_spammer_is_paused_when_gold_accuracy_is_credibly_under_the_floor(
    django_capture_on_commit_callbacks,
):
    project, people, *_ = make_quality_project(
        contributors=2, quality={"review_policy": "none", "gold_rate": 1.0, "accuracy_floor": 0.7}
    )
    gold = {"preference": "a", "strength": 1, "criteria": {}, "rationale": ""}
    make_ranking_tasks(project, 6, is_gold=True, gold=gold)
    good, spammer = people
    for _ in range(6):
        answer_next(django_capture_on_commit_callbacks, project=project, user=good, preference="a")
    paused_after = None
    for i in range(6):
        answer_next(
            django_capture_on_commit_callbacks, project=project, user=spammer, preference="b"
        )
        if ProjectContributor.objects.get(user=spammer).status == ContributorStatus.PAUSED:
            paused_after = i + 1
            break
    # Jeffreys: 0 of 1 (upper 0.9) is not enough; 0 of 3 (upper ~0.54) is.
    assert paused_after is not None
    assert paused_after > 1
    pc = ProjectContributor.objects.get(user=spammer)
    assert "under the project's floor of 70%" in pc.pause_reason
    assert pc.standing.paused_automatically
    (event,) = AuditEvent.objects.filter(project=project, action="contributor.paused")
    assert event.actor is None
    assert "under the project's floor of 70%" in event.summary
    assert ProjectContributor.objects.get(user=good).status == ContributorStatus.ACTIVE
    assert (
        ContributorStanding.objects.get(contributor__user=spammer).gold_error_count == paused_after
    )
    assert not Task.objects.filter(project=project, is_gold=True).exclude(status="open").exists()
