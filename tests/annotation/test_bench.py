"""The bench command end to end: a small project, gunicorn on loopback, real HTTP."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from annotation.models import Task
from labelhub.models import Project


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bench_measures_over_http_and_cleans_up(monkeypatch):
    db = connection.settings_dict
    monkeypatch.setenv(
        "DATABASE_URL", f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.settings")
    # The server and the worker queue the quality step in the database, as in production.
    monkeypatch.setenv("TEST_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
    out = StringIO()
    call_command(
        "bench", "queue", tasks=300, samples=20, seconds=1, concurrency="2", workers=1, stdout=out
    )
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["tasks"] == 300
    assert figures["next_ms"]["n"] == 20
    assert figures["next_ms"]["p50"] > 0
    run = figures["throughput"]["2"]
    assert run["cycles"] > 0
    assert run["errors"] == 0
    assert run["cycles_per_s_per_web_core"] > 0
    assert run["postgres_cpu_ms_per_cycle"] > 0
    # The line behind the queue: every answer of the run was judged by the worker, accepted
    # (or sampled for review) and delivered to the bench's receiver, and the backlog drained.
    line = run["pipeline"]
    assert line["judged"] == run["cycles"]
    assert line["drain_seconds"] is not None
    assert line["submit_to_judged_ms"]["p50"] > 0
    assert line["submit_to_accepted_ms"]["n"] > 0
    assert line["submit_to_webhook_delivered_ms"]["n"] == line["submit_to_accepted_ms"]["n"]
    assert line["worker_cpu_ms_per_answer"] > 0
    assert not Project.objects.exists()
    assert not Task.objects.exists()


def test_api_schema_lists_the_queue_routes(client):
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    for route in (
        "/api/v1/projects/{project_id}/next/",
        "/api/v1/assignments/{assignment_id}/draft/",
        "/api/v1/assignments/{assignment_id}/submit/",
        "/api/v1/assignments/{assignment_id}/skip/",
    ):
        assert route in paths
