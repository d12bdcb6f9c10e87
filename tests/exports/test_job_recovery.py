"""Export jobs survive a worker that dies mid-export: taken over, restarted, stored once."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from exports.models import ExportJob, ExportStatus
from exports.selectors import ExportOptions
from exports.services import export_job_run
from tests.exports.helpers import answer, make_world, settle
from tests.factories import make_task

pytestmark = pytest.mark.django_db

BOX = {"label": "cat", "x": 1, "y": 2, "w": 30, "h": 40}


@pytest.fixture
def project_and_manager():
    project, manager, _reviewer, contributor, _outsider = make_world()
    for i in range(4):
        task = make_task(project=project, data={"image": f"https://x/{i}.jpg", "width": 64,
                                                "height": 48})  # fmt: skip
        answer(task, contributor, {"boxes": [BOX]})
        settle(task, {"boxes": [BOX]})
    return project, manager


def left_running_by_a_dead_worker(project, manager, *, beat_minutes_ago: float) -> ExportJob:
    """The state a killed worker leaves: running, half-way, its heartbeat stopped."""
    return ExportJob.objects.create(
        project=project,
        created_by=manager,
        format="audit",
        options=ExportOptions(accepted_only=True).as_dict(),
        status=ExportStatus.RUNNING,
        total=4,
        processed=2,
        heartbeat_at=timezone.now() - timedelta(minutes=beat_minutes_ago),
    )


def test_a_job_abandoned_mid_export_is_restarted_and_completes_once(project_and_manager):
    project, manager = project_and_manager
    job = left_running_by_a_dead_worker(project, manager, beat_minutes_ago=10)

    call_command("resume_exports", stdout=open("/dev/null", "w"))  # noqa: SIM115
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    assert (job.processed, job.total) == (4, 4)  # started over from the first item
    rows = [json.loads(line) for line in job.file.open("rb").read().splitlines()]
    assert len(rows) == 4  # every annotation once: nothing doubled by the restart
    stored = job.file.name

    call_command("resume_exports", stdout=open("/dev/null", "w"))  # noqa: SIM115
    job.refresh_from_db()
    assert job.file.name == stored  # a finished job is left alone


def test_a_job_whose_worker_is_alive_is_not_run_twice(project_and_manager):
    project, manager = project_and_manager
    job = left_running_by_a_dead_worker(project, manager, beat_minutes_ago=0.1)
    call_command("resume_exports", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert export_job_run(export_job_id=job.pk).status == ExportStatus.RUNNING
    job.refresh_from_db()
    assert (job.status, job.processed, job.file.name) == (ExportStatus.RUNNING, 2, "")
