"""After an appeal reverses a rejection, the task goes to another reviewer or a manager: the
overruled reviewer neither gets it from the queue nor may record a verdict on it."""

import pytest
from rest_framework.test import APIClient

from annotation.models import TaskStatus
from appeals.services import appeal_decide, appeal_file_rejection
from labelhub.accounts import api_token_issue
from labelhub.models import Role
from labelhub.services import project_member_add
from quality.models import Review
from tests.appeals.helpers import rejected_answer
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user).key}")
    return client


def test_the_overruled_reviewer_is_refused_and_another_reviewer_gets_the_task(
    django_capture_on_commit_callbacks,
):
    project, people, reviewer, manager, task, annotation, _ = rejected_answer(
        django_capture_on_commit_callbacks
    )
    second = make_user(username="second-reviewer", organization=project.organization)
    project_member_add(project=project, username=second.username, role=Role.REVIEWER, actor=manager)
    appeal = appeal_file_rejection(annotation_id=annotation.pk, user=people[0], comment="A fits.")
    with django_capture_on_commit_callbacks(execute=True):
        appeal_decide(
            appeal_id=appeal.pk, project=project, actor=manager, decision="reverse", reason="Yes."
        )
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW

    url = f"/api/v1/projects/{project.pk}/reviews/next/"
    assert api_as(reviewer).get(url).status_code == 204
    refused = api_as(reviewer).post(
        f"/api/v1/reviews/{task.pk}/",
        {"verdict": "accept", "version": task.outcome.version},
        format="json",
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "overruled"
    assert Review.objects.filter(task=task).count() == 1  # the rejection only

    item = api_as(second).get(url).json()
    assert item["task"]["id"] == task.pk
    done = api_as(second).post(
        f"/api/v1/reviews/{task.pk}/",
        {"verdict": "accept", "version": item["version"]},
        format="json",
    )
    assert done.status_code == 200, done.json()
