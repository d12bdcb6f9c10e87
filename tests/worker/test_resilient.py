"""The worker puts a task whose run meets a database error back in the queue (issue #24, item 3).

django-tasks-db records every exception of a task as its failure. A connection cut inside a
task's ``transaction.atomic()`` raises ``OperationalError``; Django opens a new connection for
the next statement, so the failure was recorded and the task's work (a judging run, a batch of
deliveries) was never done. Here tasks raise the errors Django raises for a lost connection.
"""

from datetime import timedelta

import pytest
from django.db import InterfaceError, OperationalError
from django.tasks import task
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from worker import resilient
from worker.resilient import ResilientWorker

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "sandbox"]}
}
RUNS: list[str] = []


@task
def cut_once(label: str) -> str:
    """Fails with a lost connection the first time it runs for ``label``."""
    RUNS.append(label)
    if RUNS.count(label) == 1:
        raise OperationalError("server closed the connection unexpectedly")
    return f"{label} done"


@task
def always_cut() -> None:
    RUNS.append("always")
    raise InterfaceError("connection already closed")


@task
def broken() -> None:
    raise ValueError("a bug, not the database")


def _worker(**options) -> ResilientWorker:
    return ResilientWorker(
        queue_names=["default"],
        interval=0,
        batch=True,  # runs what is ready, then returns
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="worker-under-test",
        excluded_queue_names=[],
        sleep=lambda seconds: None,
        **options,
    )


@pytest.fixture(autouse=True)
def _database_tasks():
    RUNS.clear()
    with override_settings(TASKS=DATABASE_TASKS):
        yield


def test_a_task_cut_off_its_database_once_runs_again_and_succeeds(monkeypatch):
    monkeypatch.setattr(resilient, "FIRST_DELAY", 0)  # ready again at once
    result = cut_once.enqueue("judging")
    worker = _worker()
    worker.run()
    row = DBTaskResult.objects.get(pk=result.id)
    assert RUNS == ["judging", "judging"]
    assert row.status == "SUCCESSFUL"
    assert row.return_value == "judging done"
    assert row.worker_ids == ["worker-under-test", "worker-under-test"]
    assert worker.interruptions == 1
    assert not DBTaskResult.objects.filter(status="FAILED").exists()


def test_the_task_goes_back_to_ready_after_a_delay_that_doubles():
    result = cut_once.enqueue("delivery")
    before = timezone.now()
    _worker().run()  # one run, cut; the task is not ready again yet, so the batch ends
    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, row.traceback) == ("READY", "")
    assert (
        before + timedelta(seconds=0.5) <= row.run_after <= timezone.now() + timedelta(seconds=0.5)
    )
    assert resilient.retry_delay(2) == 1.0
    assert resilient.retry_delay(30) == resilient.LONGEST_DELAY


def test_a_task_cut_off_every_time_is_recorded_failed_after_the_last_attempt(monkeypatch):
    monkeypatch.setattr(resilient, "FIRST_DELAY", 0)
    monkeypatch.setattr(resilient, "MAX_ATTEMPTS", 3)
    result = always_cut.enqueue()
    _worker().run()
    row = DBTaskResult.objects.get(pk=result.id)
    assert RUNS == ["always"] * 3
    assert row.status == "FAILED"
    assert row.exception_class_path == "django.db.utils.InterfaceError"


def test_any_other_error_is_recorded_failed_at_once():
    result = broken.enqueue()
    worker = _worker()
    worker.run()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "FAILED"
    assert row.exception_class_path == "builtins.ValueError"
    assert worker.interruptions == 0
