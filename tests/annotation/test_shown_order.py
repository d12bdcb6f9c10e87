"""Candidates in an order of each person's own: the API's next task and the work screen show it,
the same on every reload, and the submit records the order the server served."""

import pytest
from django.urls import reverse

from annotation.models import Annotation, Task
from labelhub.models import Role
from tests.annotation.test_queue_api import client_for, next_url
from tests.factories import PASSWORD, make_project, make_user

pytestmark = pytest.mark.django_db

SCHEMA = {"mode": "rank", "strength_scale": 3, "criteria": [], "rationale": "optional"}
IDS = ["a", "b", "c", "d"]


def ranking_project(*, people: int = 2, quality: dict | None = None):
    users = [make_user() for _ in range(people)]
    project = make_project(
        kind="ranking",
        schema=SCHEMA,
        quality={"overlap": people, **(quality or {})},
        members=dict.fromkeys(users, Role.CONTRIBUTOR),
    )
    return project, users


def add_tasks(project, n: int, *, overlap: int = 2) -> list[Task]:
    data = {
        "prompt": "Which is best?",
        "responses": [{"id": i, "text": f"Answer {i}", "model": f"m-{i}"} for i in IDS],
    }
    return [Task.objects.create(project=project, data=data, overlap=overlap) for _ in range(n)]


def served(client, project) -> dict:
    response = client.post(next_url(project))
    assert response.status_code == 200
    return response.json()


def submit(client, body: dict, result: dict):
    return client.post(
        f"/api/v1/assignments/{body['assignment']['id']}/submit/",
        {"result": result},
        format="json",
    )


def test_next_lists_the_candidates_in_the_callers_order_and_says_it():
    project, (ana, _) = ranking_project()
    add_tasks(project, 1)
    body = served(client_for(ana), project)
    order = body["task"]["shown_order"]
    assert sorted(order) == IDS
    assert [r["id"] for r in body["task"]["data"]["responses"]] == order
    assert "model" not in str(body["task"]["data"])  # still blind


def test_the_same_person_gets_the_same_order_on_reload():
    project, (ana, _) = ranking_project()
    add_tasks(project, 1)
    client = client_for(ana)
    first = served(client, project)
    again = served(client, project)  # the live lease again
    assert again["assignment"]["id"] == first["assignment"]["id"]
    assert again["task"]["shown_order"] == first["task"]["shown_order"]
    assert again["task"]["data"] == first["task"]["data"]


def test_two_people_get_different_orders_over_a_set_of_tasks():
    project, (ana, ben) = ranking_project()
    add_tasks(project, 12)
    orders: dict = {ana.pk: {}, ben.pk: {}}
    for person in (ana, ben):
        client = client_for(person)
        for _ in range(12):
            body = served(client, project)
            orders[person.pk][body["task"]["id"]] = body["task"]["shown_order"]
            assert submit(client, body, {"order": IDS}).status_code == 201
    differ = sum(orders[ana.pk][t] != orders[ben.pk][t] for t in orders[ana.pk])
    assert differ >= 6, orders


def test_submit_records_the_order_served_not_one_the_client_sends():
    project, (ana, _) = ranking_project()
    add_tasks(project, 1)
    client = client_for(ana)
    body = served(client, project)
    shown = body["task"]["shown_order"]
    result = {"order": list(reversed(shown)), "shown_order": IDS, "criteria": {}}
    assert submit(client, body, result).status_code == 201
    annotation = Annotation.objects.get(contributor=ana)
    assert annotation.shown_order == shown
    assert "shown_order" not in annotation.result
    assert annotation.result["order"] == list(reversed(shown))  # ids keep their meaning


def test_shuffling_off_serves_and_records_the_stored_order():
    project, (ana, _) = ranking_project(quality={"shuffle_candidates": 0})
    add_tasks(project, 3)
    client = client_for(ana)
    for _ in range(3):
        body = served(client, project)
        assert body["task"]["shown_order"] == IDS
        assert submit(client, body, {"order": IDS}).status_code == 201
    assert [a.shown_order for a in Annotation.objects.filter(contributor=ana)] == [IDS] * 3


def test_the_project_setting_is_checked_like_any_quality_bar():
    project, _ = ranking_project()
    manager = make_user()
    project.members.create(user=manager, role=Role.MANAGER)
    client = client_for(manager)
    url = f"/api/v1/projects/{project.pk}/"
    bad = client.patch(url, {"quality": {"shuffle_candidates": 2}}, format="json")
    assert bad.status_code == 400
    assert "shuffle_candidates" in str(bad.json())
    ok = client.patch(url, {"quality": {"shuffle_candidates": 0}}, format="json")
    assert ok.status_code == 200
    assert ok.json()["quality"]["shuffle_candidates"] == 0


def test_the_work_screen_shows_the_same_order_as_the_api(client):
    project, (ana, _) = ranking_project()
    add_tasks(project, 1)
    body = served(client_for(ana), project)
    client.login(username=ana.username, password=PASSWORD)
    html = client.get(reverse("annotation:work", args=[project.pk])).content.decode()
    positions = [html.index(f'data-response-id="{rid}"') for rid in body["task"]["shown_order"]]
    assert positions == sorted(positions)
    assert "m-a" not in html


@pytest.mark.parametrize("draft", [False, True])
def test_the_next_task_answer_is_the_serializers_to_the_byte(draft):
    """The queue builds its answer by hand for speed (annotation/api/serializers.py); the
    serializer that documents the shape must give the same one, blinded order, content names
    (a built-in category and an organization's own), dates and draft included."""
    import json

    from django.utils import timezone
    from rest_framework.renderers import JSONRenderer

    from annotation import queue
    from annotation.api.serializers import NextTaskSerializer, next_task_answer
    from labelhub.content import content_category_create

    project, (ana, _) = ranking_project()
    own = content_category_create(organization=project.organization, name="Gore", actor=None)
    (task,) = add_tasks(project, 1)
    task.content_flags = 1 | own.flag
    task.predictions = [{"ranking": ["b", "a", "c", "d"]}]
    task.save()
    assignment = queue.assignment_claim_next(project=project, contributor=ana)
    if draft:
        assignment.draft, assignment.draft_saved_at = {"ranking": ["a"]}, timezone.now()
    assignment.task.project = project
    by_hand = next_task_answer(assignment, contributor_id=ana.pk)
    expected = NextTaskSerializer(assignment, context={"contributor_id": ana.pk}).data
    assert JSONRenderer().render(by_hand) == JSONRenderer().render(expected)
    assert json.loads(JSONRenderer().render(by_hand))["task"]["content"] == ["violence", "gore"]
