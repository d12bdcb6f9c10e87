"""The order the queue hands tasks out in: priority (the default), a model's lowest score first,
or random — one index walk in every order."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from annotation import queue, queue_sql
from annotation.models import Task
from labelhub.models import Role
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db

RESULT = {"label": "cat"}


def scored(name: str, score: float | None, priority: int = 0) -> dict:
    prediction = {"label": "dog"} if score is None else {"label": "dog", "score": score}
    return {
        "data": {"n": name},
        "external_id": name,
        "predictions": [prediction],
        "priority": priority,
    }


def handed_out(project, user) -> list[str]:
    names = []
    while (lease := queue.assignment_claim_next(project=project, contributor=user)) is not None:
        names.append(lease.task.data["n"])
        queue.annotation_submit(assignment_id=lease.pk, contributor=user, result=RESULT)
    return names


@pytest.fixture
def people():
    manager, ana = make_user(), make_user()
    project = make_project(kind="exact", members={manager: Role.MANAGER, ana: Role.CONTRIBUTOR})
    client = APIClient()
    client.force_authenticate(manager)
    return project, manager, ana, client


def test_lowest_score_first_hands_out_what_the_model_was_least_sure_of(
    people, django_capture_on_commit_callbacks
):
    project, _, ana, client = people
    url = f"/api/v1/projects/{project.pk}/"
    assert (
        client.patch(url, {"quality": {"queue_order": "low_score"}}, format="json").status_code
        == 200
    )
    rows = [scored("sure", 0.9), scored("unsure", 0.2), scored("unscored", None),
            scored("middling", 0.5), scored("urgent", 0.95, priority=5)]  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{url}tasks/", rows, format="json")
    assert response.status_code == 201, response.json()
    assert Task.objects.get(external_id="unsure").prediction_score == 0.2
    # priority still comes first; then no score, then the lowest score
    assert handed_out(project, ana) == ["urgent", "unscored", "unsure", "middling", "sure"]


def test_changing_the_order_reranks_the_project_and_back(
    people, django_capture_on_commit_callbacks
):
    project, _, ana, client = people
    for n in range(30):
        Task.objects.create(project=project, data={"n": f"t{n:02}"})
    url = f"/api/v1/projects/{project.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(url, {"quality": {"queue_order": "random"}}, format="json")
    ranks = list(Task.objects.filter(project=project).values_list("queue_rank", flat=True))
    assert len(set(ranks)) == 30
    assert all(0 <= rank < 1 for rank in ranks)
    shuffled = handed_out(project, ana)
    assert sorted(shuffled) == [f"t{n:02}" for n in range(30)]
    assert shuffled != sorted(shuffled)  # 1 chance in 30! that a shuffle keeps the order
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(url, {"quality": {"queue_order": "priority"}}, format="json")
    assert set(Task.objects.filter(project=project).values_list("queue_rank", flat=True)) == {0.0}


def test_an_unknown_order_is_refused_by_name(people):
    project, _, _, client = people
    response = client.patch(
        f"/api/v1/projects/{project.pk}/", {"quality": {"queue_order": "fifo"}}, format="json"
    )
    assert response.status_code == 400
    assert "quality.queue_order" in response.json()


@pytest.mark.postgres
def test_every_order_is_one_walk_of_the_queue_index(people):
    project, _, ana, _ = people
    Task.objects.bulk_create(
        Task(project=project, data={"n": n}, queue_rank=n / 1000, priority=n % 3)
        for n in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotation_task")
        cursor.execute(f"EXPLAIN {queue_sql._candidate(gold=False)}", [project.pk, ana.pk])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "task_queue_ranked" in plan, plan
    assert "Sort" not in plan, plan


def test_a_backends_predictions_order_a_lowest_score_first_queue(people):
    """Scores that arrive from a model backend rank the tasks as imported ones do."""
    from backends import protocol
    from backends.models import ModelBackend
    from backends.services import predictions_store

    project, _, ana, client = people
    client.patch(
        f"/api/v1/projects/{project.pk}/", {"quality": {"queue_order": "low_score"}}, format="json"
    )
    tasks = {n: Task.objects.create(project=project, data={"n": n}) for n in ("a", "b", "c")}
    backend = ModelBackend.objects.create(project=project, name="m", url="https://models.test/")
    predictions_store(
        backend=backend,
        replies=[
            protocol.Reply(task_id=tasks[n].pk, result=RESULT, score=score, model_version="v1")
            for n, score in (("a", 0.9), ("b", 0.1), ("c", 0.5))
        ],
    )
    assert handed_out(project, ana) == ["b", "c", "a"]
