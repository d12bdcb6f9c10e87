"""Follow-up work is queued in the transaction of the rows it serves (issue #24, item 3).

With the database task backend a queued task is a row: queued from ``on_commit`` it could be lost
to a connection cut between the COMMIT and its INSERT, leaving a judging batch's deliveries, or a
project's judging request, with no task to serve them. Queued in the transaction, the task rolls
back and commits with them.
"""

import pytest
from django.db import OperationalError, transaction
from django.test import override_settings
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from annotation.models import WebhookDelivery
from annotation.webhooks import webhooks_enqueue
from exports.models import ExportJob
from exports.selectors import ExportOptions
from exports.services import export_job_create
from quality.models import JudgingRequest
from quality.tasks import request_judging
from tests.factories import make_project, make_task, make_user

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "sandbox"]}
}


class RolledBack(Exception):
    pass


def _queued(name: str):
    return DBTaskResult.objects.filter(task_path__endswith=f".{name}")


@override_settings(TASKS=DATABASE_TASKS)
def test_a_batchs_deliveries_and_their_task_commit_or_roll_back_together():
    project = make_project(kind="ranking")
    task = make_task(project=project, callback_url="https://receiver.example/hook")
    queued_before_commit = []

    def batch_that_fails_after_its_deliveries():
        with transaction.atomic():
            webhooks_enqueue(event="task.accepted", results=[(task, {"preference": "a"})])
            queued_before_commit.append(_queued("deliver_webhooks").count())
            raise RolledBack

    with pytest.raises(RolledBack):
        batch_that_fails_after_its_deliveries()
    assert queued_before_commit == [1]  # queued in the transaction, not after its COMMIT
    assert not WebhookDelivery.objects.exists()
    assert not _queued("deliver_webhooks").exists()
    with transaction.atomic():
        (delivery,) = webhooks_enqueue(event="task.accepted", results=[(task, {})])
        assert _queued("deliver_webhooks").get().args_kwargs["args"] == [[delivery.pk]]


@override_settings(TASKS=DATABASE_TASKS)
def test_a_judging_request_is_not_kept_when_its_run_cannot_be_queued(monkeypatch):
    project = make_project(kind="ranking")

    def connection_lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(DatabaseBackend, "_task_to_db_task", connection_lost)
    with pytest.raises(OperationalError):
        request_judging(project.pk)
    # A row saying "a run is coming" with none coming would make every later submit queue
    # nothing.
    assert not JudgingRequest.objects.exists()
    monkeypatch.undo()
    request_judging(project.pk)
    request_judging(project.pk)
    assert JudgingRequest.objects.get().project_id == project.pk
    assert _queued("judge_project").get().args_kwargs["args"] == [project.pk]


@override_settings(TASKS=DATABASE_TASKS)
def test_a_background_job_and_its_task_commit_together(monkeypatch):
    """The same for the jobs people start (exports here; imports, proofs, audits, eval and
    prediction runs use the same helper): no job row left queued with no task to run it."""
    manager = make_user("maria")
    project = make_project(kind="ranking", members={manager: "manager"})

    def connection_lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(DatabaseBackend, "_task_to_db_task", connection_lost)
    with pytest.raises(OperationalError):
        export_job_create(
            project=project, user=manager, format_name="rankings", options=ExportOptions()
        )
    assert not ExportJob.objects.exists()
    monkeypatch.undo()
    job = export_job_create(
        project=project, user=manager, format_name="rankings", options=ExportOptions()
    )
    assert _queued("export_job_process").get().args_kwargs["args"] == [job.pk]
