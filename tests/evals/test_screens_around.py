"""The screens every kind has work for rubric evals: the task list and preview, the review of
a written rubric (accept or fix), the quality dashboard, and the ordinary export page."""

import pytest
from django.urls import reverse

from annotation import queue
from annotation.models import Task, TaskStatus
from annotation.services import task_create
from evals import services
from evals.demo import seed_eval_set
from evals.models import EvalItem
from labelhub.models import Role
from quality.services import review_record
from tests.factories import make_organization, make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)

RUBRIC = {
    "rubric": [
        {"id": "c1", "criterion": "Advises fluids", "points": 4, "tags": ["axis:completeness"]},
        {"id": "c2", "criterion": "Recommends aspirin", "points": -8, "tags": ["axis:accuracy"]},
    ]
}


def test_a_written_rubric_is_reviewed_fixed_and_exported_as_healthbench(client):
    writer, reviewer, manager = make_user("w"), make_user("r"), make_user("m")
    project = make_project(
        kind="rubric_eval",
        schema={"mode": "write"},
        members={writer: Role.CONTRIBUTOR, reviewer: Role.REVIEWER, manager: Role.MANAGER},
        quality={"overlap": 1, "review_policy": "share", "review_share": 1.0},
    )
    task = task_create(project=project, data={"prompt": "Fever at 39 C?", "prompt_id": "fever"})
    assignment = queue.assignment_claim_next(project=project, contributor=writer)
    queue.annotation_submit(assignment_id=assignment.pk, contributor=writer, result=RUBRIC)
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    client.force_login(reviewer)
    page = client.get(reverse("quality:review", args=[project.pk, task.pk]))
    assert page.status_code == 200
    assert "2 criteria, 4 points to earn" in page.content.decode()
    fixed = {"rubric": [*RUBRIC["rubric"], {"criterion": "Says when to see a doctor",
                                            "points": 6, "tags": []}]}  # fmt: skip
    review_record(
        task_id=task.pk,
        project=project,
        reviewer=reviewer,
        verdict="fix",
        version=task.outcome.version,
        result=fixed,
    )
    client.force_login(manager)
    for name in ("annotation:task-list", "quality:dashboard", "exports:export"):
        assert client.get(reverse(name, args=[project.pk])).status_code == 200, name
    preview = client.get(reverse("annotation:task-preview", args=[project.pk, task.pk]))
    assert b'data-testid="rubric-editor"' in preview.content
    body = b"".join(
        client.get(
            f"/api/v1/projects/{project.pk}/export/?format=healthbench",
            HTTP_ACCEPT="application/json",
        ).streaming_content
    )
    assert b'"prompt_id":"fever"' in body
    assert b'"Says when to see a doctor"' in body

    # An eval set of the same organization takes the accepted rubrics as its prompts.
    eval_set = make_project(
        kind="rubric_eval", organization=project.organization, members={manager: Role.MANAGER}
    )
    url = reverse("evals:items-import", args=[eval_set.pk])
    assert client.post(url, {"source": project.pk}).status_code == 302
    item = EvalItem.objects.get(project=eval_set)
    assert item.key == "fever"
    assert [c["criterion"] for c in item.rubric] == [
        "Advises fluids",
        "Recommends aspirin",
        "Says when to see a doctor",
    ]
    again = services.items_from_rubric_project(project=eval_set, source=project)
    assert (again.created, again.updated) == (0, 0)
    with pytest.raises(services.EvalRefused, match="in write mode"):
        services.items_from_rubric_project(project=eval_set, source=eval_set)
    stranger = make_project(kind="rubric_eval", schema={"mode": "write"})
    with pytest.raises(services.EvalRefused, match="not of this organization"):
        services.items_from_rubric_project(project=eval_set, source=stranger)


def test_the_demo_eval_sets_task_screens_and_dashboard_render(client):
    manager, expert = make_user("maria"), make_user("ana")
    project = seed_eval_set(organization=make_organization(), manager=manager, experts=[expert])
    client.force_login(manager)
    for name in ("annotation:task-list", "quality:dashboard", "exports:export", "evals:home"):
        page = client.get(reverse(name, args=[project.pk]))
        assert page.status_code == 200, name
    task = Task.objects.filter(project=project).first()
    preview = client.get(reverse("annotation:task-preview", args=[project.pk, task.pk]))
    assert b'data-testid="re-response"' in preview.content
    assert b"acme-assistant" not in preview.content  # graders judge blind
    graded = client.get(f"/api/v1/projects/{project.pk}/export/?format=graded")
    assert graded.status_code == 200
