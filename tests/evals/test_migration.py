"""Migration 0002 turns each response's one people's task into a PeopleTask holding the
criteria of that task, so a database upgraded with graded responses keeps their grades."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("evals", "0001_initial")]
AFTER = [("evals", "0002_people_tasks_themes_run_heartbeat")]


def test_a_responses_task_becomes_its_first_people_task():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    organization = old.get_model("labelhub", "Organization").objects.create(name="O", slug="o")
    project = old.get_model("labelhub", "Project").objects.create(
        organization=organization, name="E", kind="rubric_eval", schema={"mode": "grade"}
    )
    rubric = [
        {"id": "a", "criterion": "x", "points": 2, "tags": []},
        {"id": "b", "criterion": "y", "points": 1, "tags": []},
    ]
    item = old.get_model("evals", "EvalItem").objects.create(
        project=project, key="q0", prompt=[{"role": "user", "content": "?"}], rubric=rubric
    )
    task = old.get_model("annotation", "Task").objects.create(
        project=project, data={"rubric": rubric[1:], "response": "r"}
    )
    Response = old.get_model("evals", "Response")
    with_task = Response.objects.create(
        project=project, item=item, model_name="m", text="r", task=task, route="people"
    )
    Response.objects.create(project=project, item=item, model_name="n", text="s")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    parts = list(new.get_model("evals", "PeopleTask").objects.values_list(
        "response_id", "task_id", "criteria"
    ))  # fmt: skip
    assert parts == [(with_task.pk, task.pk, ["b"])]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
