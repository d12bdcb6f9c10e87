"""``wait()`` on jobs that are still running when the server answers: the imports go to the
database task backend and a real ``manage.py db_worker`` (its own process, as in production)
writes them, started only after the client has begun to wait. The client polls, sees the job
queued and then done, gives up with a clear error when told to wait less, and the command line's
``labelhub wait --timeout`` exits with status 2.

Also here: the default import path (batches of 5,000, above the server's sync limit, so every
batch is a background job), whose refused rows come back with their row over the whole import."""

import os
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner
from django.conf import settings as django_settings
from labelhub_client import Client, ImportFailed
from labelhub_client.cli import main

from annotation.models import ImportJob, Task
from tests.annotation.test_queue_concurrency import database_url
from tests.client.conftest import QUALITY, SCHEMA

DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"


def rows(n: int, *, prefix: str = "w"):
    for i in range(n):
        yield {"data": {"image": f"https://img.example.com/{i}.png"}, "external_id": f"{prefix}{i}"}


@pytest.fixture
def queued_tasks(settings):
    """Background work is queued in the database (not run inside the request)."""
    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND, "QUEUES": ["default", "sandbox"]}}


def start_worker() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.1"],
        cwd=django_settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "TEST_TASKS_BACKEND": DATABASE_BACKEND,
            "PYTHONPATH": str(django_settings.BASE_DIR),
            "TEST_MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        },
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def import_statuses(client: Client) -> list[dict]:
    """Every import status the client reads, as the server sent it."""
    seen: list[dict] = []

    def note(response) -> None:
        if "/api/v1/imports/" in str(response.url) and response.request.method == "GET":
            response.read()
            seen.append(response.json())

    client.http.client.event_hooks["response"].append(note)
    return seen


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_wait_follows_imports_a_worker_writes_after_the_answer(server, queued_tasks):
    client = Client(server.url, server.manager_token)
    project = client.create_project("Queued", "transcription", schema=SCHEMA, quality=QUALITY)
    job = project.import_tasks(rows(3000), batch_size=1500, progress=False)
    assert len(job.ids) == 2
    assert ImportJob.objects.filter(pk__in=job.ids, status="queued").count() == 2
    seen = import_statuses(client)

    with pytest.raises(TimeoutError, match=r"still running after 0\.5 s.*labelhub wait"):
        job.wait(progress=False, poll=0.1, timeout=0.5)
    assert {s["status"] for s in seen} == {"queued"}
    assert not job.finished

    cli = CliRunner().invoke(
        main,
        ["--url", server.url, "--token", server.manager_token, "wait", "--timeout", "0.3"]
        + [str(i) for i in job.ids],
    )
    assert cli.exit_code == 2
    assert "still running" in cli.output

    worker_started = threading.Event()
    worker: list[subprocess.Popen] = []

    def later() -> None:
        worker.append(start_worker())
        worker_started.set()

    threading.Timer(1.0, later).start()
    try:
        job.wait(progress=False, poll=0.1, timeout=120)
    finally:
        worker_started.wait(10)
        for process in worker:
            stop(process)
    assert (job.total, job.created, job.updated, job.processed) == (3000, 3000, 0, 3000)
    assert job.finished
    assert Task.objects.filter(project_id=project.id).count() == 3000
    # The polls saw the jobs queued (before the worker), then done, and the count only rose.
    for import_id in job.ids:
        polls = [s for s in seen if s["id"] == import_id]
        assert [s["status"] for s in polls[:3]] == ["queued"] * 3
        assert polls[-1]["status"] == "done"
        processed = [s["processed"] for s in polls]
        assert processed == sorted(processed)
        assert (processed[0], processed[-1]) == (0, 1500)


@pytest.mark.django_db(transaction=True)
def test_a_background_batch_refuses_rows_by_row_and_field(server, settings):
    """The default batch (5,000) is above the sync limit (1,000): the batch becomes a server
    job, and its refusal names the row over the whole import, as the sync path does."""
    settings.LABELHUB_IMPORT_SYNC_LIMIT = 1000
    client = Client(server.url, server.manager_token)
    project = client.create_project("Big batches", "transcription", schema=SCHEMA)
    tasks = list(rows(7000, prefix="b"))
    tasks[6123]["data"] = {"picture": "x"}
    job = project.import_tasks(tasks, progress=False)
    assert [b.size for b in job.batches] == [5000, 2000]
    assert len(job.ids) == 2
    with pytest.raises(ImportFailed) as failed:
        job.wait(progress=False, poll=0.1)
    problem = failed.value.problems[0]
    assert (problem.row, problem.field) == (6124, "data.image")
    assert "row 6124, data.image" in str(failed.value)
    # The first batch was written; the refused one wrote nothing.
    assert Task.objects.filter(project_id=project.id).count() == 5000
    tasks[6123]["data"] = {"image": "https://img.example.com/6123.png"}
    again = project.import_tasks(tasks, progress=False, wait=True)
    assert (again.created, again.updated) == (2000, 5000)
