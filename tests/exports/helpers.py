"""Set-up for export tests: projects whose tasks have real answers, outcomes and reviews."""

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from annotation.models import Annotation, Assignment, AssignmentStatus, Task, TaskStatus
from labelhub.accounts import api_token_issue
from labelhub.models import Role
from quality.models import TaskOutcome
from tests.factories import make_project, make_user

BBOX_SCHEMA = {
    "labels": [
        {"name": "cat", "colour": "#1f77b4", "hotkey": 1},
        {"name": "dog", "colour": "#ff7f0e", "hotkey": 2},
    ],
    "min_size": 2,
    "allow_empty": True,
}


def make_world(kind: str = "bbox", **extra):
    manager, reviewer, contributor, outsider = (make_user() for _ in range(4))
    project = make_project(
        kind=kind,
        schema=BBOX_SCHEMA if kind == "bbox" else None,
        members={manager: Role.MANAGER, reviewer: Role.REVIEWER, contributor: Role.CONTRIBUTOR},
        **extra,
    )
    return project, manager, reviewer, contributor, outsider


def answer(task: Task, contributor, result: dict, *, seconds: int = 20) -> Annotation:
    assignment = Assignment.objects.create(
        task=task,
        contributor=contributor,
        project=task.project,
        status=AssignmentStatus.SUBMITTED,
        lease_expires_at=timezone.now() + timedelta(minutes=30),
        finished_at=timezone.now(),
    )
    return Annotation.objects.create(
        task=task,
        contributor=contributor,
        assignment=assignment,
        result=result,
        active_seconds=seconds,
    )


def settle(
    task: Task, result: dict, *, accepted: bool = True, confidence=None, agreement=None
) -> TaskOutcome:
    """The task's outcome: accepted with ``result``, or only proposed."""
    now = timezone.now()
    outcome = TaskOutcome.objects.create(
        task=task,
        project=task.project,
        proposal=result,
        is_consensus=confidence is not None,
        confidence=confidence,
        agreement=agreement,
        answers_used=1,
        accepted_result=result if accepted else None,
        accepted_at=now if accepted else None,
        computed_at=now,
    )
    Task.objects.filter(pk=task.pk).update(
        status=TaskStatus.ACCEPTED if accepted else TaskStatus.IN_REVIEW
    )
    return outcome


def api(user, *, token: bool = False) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user).key}")
    else:
        client.force_authenticate(user)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content)
