"""The model as a contributor: a planted good and a planted bad model on a project with gold."""

import random

import pytest
from django.test import override_settings

from annotation import queue
from annotation.models import ContributorStatus, ProjectContributor, Task, TaskStatus
from backends.measure import pending_measure, version_summary
from backends.models import ModelVersion
from backends.services import backend_save, run_create
from labelhub.models import AuditAction, AuditEvent, Role
from labelhub.quality_bars import quality_with_defaults
from quality.models import TaskOutcome
from tests.backends.planted import PlantedBackend
from tests.factories import make_project, make_task, make_user

pytestmark = pytest.mark.django_db
TARGET = 0.10


def _box(i: int) -> dict:
    return {"boxes": [{"label": "object", "x": 10 + i % 50, "y": 20, "w": 80 + i % 7, "h": 60}]}


WRONG = {"boxes": [{"label": "object", "x": 500, "y": 400, "w": 20, "h": 20}]}


@override_settings(MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES=True)
def test_bad_model_paused_good_one_counts_and_auto_accepts_within_target(
    django_capture_on_commit_callbacks,
):
    person = make_user()
    project = make_project(
        kind="bbox",
        members={person: Role.CONTRIBUTOR},
        quality={
            "overlap": 2,
            "accuracy_floor": 0.7,
            "review_policy": "adaptive",
            "review_target_error": TARGET,
        },
    )
    data = {"image": "https://example.com/x.jpg", "width": 640, "height": 480}
    truth: dict[int, dict] = {}
    for i in range(12):
        task = make_task(project=project, data=data, is_gold=True, gold=_box(i))
        truth[task.pk] = _box(i)
    for i in range(12, 112):
        task = make_task(project=project, data=data, overlap=2)
        truth[task.pk] = _box(i)
    rng = random.Random(7)
    # The good model is right on 95% of tasks and unsure (0.55) where it is wrong.
    wrong_ones = {pk for pk in truth if rng.random() < 0.05 and not Task.objects.get(pk=pk).is_gold}

    def good(task):
        if task["id"] in wrong_ones:
            return WRONG, 0.55
        return truth[task["id"]], 0.97

    def bad(task):
        return WRONG, 0.99

    with PlantedBackend(good, version="good-1") as g, PlantedBackend(bad, version="bad-1") as b:
        bad_backend = backend_save(
            project=project, name="Bad", url=b.url, counts_as_answer=True, batch_size=50
        )
        good_backend = backend_save(
            project=project,
            name="Good",
            url=g.url,
            counts_as_answer=True,
            auto_accept_score=0.9,
            batch_size=50,
        )
        with django_capture_on_commit_callbacks(execute=True):
            bad_run = run_create(backend=bad_backend)
        with django_capture_on_commit_callbacks(execute=True):
            good_run = run_create(backend=good_backend)
    bad_run.refresh_from_db(), good_run.refresh_from_db()
    assert bad_run.predicted == good_run.predicted == 112

    bad_version = ModelVersion.objects.get(backend=bad_backend)
    good_version = ModelVersion.objects.get(backend=good_backend)
    bad_pc = ProjectContributor.objects.get(project=project, user=bad_version.user)
    assert bad_pc.status == ContributorStatus.PAUSED
    assert "accuracy on quality checks is 0%" in bad_pc.pause_reason
    assert "under the project's floor of 70%" in bad_pc.pause_reason
    # The audit log names the model by its backend, not by its account's made-up username.
    paused = AuditEvent.objects.get(project=project, action=AuditAction.CONTRIBUTOR_PAUSED)
    assert paused.summary.startswith("Bad bad-1: Paused automatically")
    assert bad_version.user.username not in paused.summary
    # Paused on gold (sent first), the bad model's answers count nowhere.
    assert not bad_version.predictions.filter(annotation__isnull=False, task__is_gold=False)
    good_pc = ProjectContributor.objects.get(project=project, user=good_version.user)
    assert good_pc.status == ContributorStatus.ACTIVE
    assert good_pc.gold_answered_count == 12

    # Unsure tasks keep overlap 2: the good model's answer is one of two; a person gives the
    # other (the truth) and the consensus weighs both.
    unsure = list(Task.objects.filter(pk__in=wrong_ones))
    assert unsure
    assert all(t.overlap == 2 and t.answer_count == 1 for t in unsure)
    for _ in unsure:
        with django_capture_on_commit_callbacks(execute=True):
            lease = queue.assignment_claim_next(project=project, contributor=person)
            queue.annotation_submit(
                assignment_id=lease.pk,
                contributor=person,
                result=truth[lease.task_id],
                active_seconds=9,
            )
    for task in unsure:
        outcome = TaskOutcome.objects.get(task=task)
        assert outcome.answers_used == 2
        assert outcome.is_consensus

    # Confident tasks were answered by the model alone; the review rule sampled some of them.
    alone = TaskOutcome.objects.filter(project=project, answers_used=1)
    accepted = [o for o in alone if o.task.status == TaskStatus.ACCEPTED]
    reviewed = [o for o in alone if o.task.status == TaskStatus.IN_REVIEW]
    assert len(accepted) + len(reviewed) == 100 - len(wrong_ones)
    assert accepted, "nothing was auto-accepted"
    # Held-out check: the accepted results against the planted truth.
    kind, quality = project.task_kind, quality_with_defaults(project.quality)
    errors = sum(
        kind.score(o.accepted_result, truth[o.task_id], schema=project.schema, quality=quality)
        < 0.8
        for o in accepted
    )
    assert errors / len(accepted) <= TARGET

    assert pending_measure(backend=good_backend) >= len(accepted)
    summary = version_summary(version=good_version, quality=quality)
    assert summary["standing"]["gold_accuracy"] == 1.0
    assert summary["standing"]["gold_interval"][0] > 0.7
    assert summary["standing"]["agreement_with_people"] == 0.0  # wrong where people answered
    assert summary["saved"]["accepted_unchanged_share"] == 1.0  # the unsure ones went to review
    assert summary["saved"]["f1"] > 0.9
    print(
        f"auto-accepted {len(accepted)}, sampled for review {len(reviewed)}, "
        f"errors {errors}, unsure {len(unsure)}, summary {summary}"
    )
