"""The quality step behind the queue: batches, one queued run per project, the backlog shown,
several workers at once and a worker killed in a batch."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from annotation import events
from annotation.models import Annotation, ProjectContributor, Task, TaskStatus
from quality.judging import backlog_for, judge_batch, judging_run
from quality.models import ContributorStanding, JudgingRequest, TaskOutcome
from quality.tasks import after_submit, judge_project
from tests.annotation.test_queue_concurrency import database_url
from tests.quality.helpers import answer_next, make_quality_project, make_ranking_tasks

NO_REVIEW = {"review_policy": "none"}
DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def submit_all(capture, project, people, *, rounds: int, run_hooks: bool = False) -> None:
    """Every person answers ``rounds`` tasks, turn by turn (so a task's answers come from
    different moments); with ``run_hooks`` off nothing asks for the quality step, so the
    answers wait as a backlog."""
    saved = events.submitted.listeners
    if not run_hooks:
        events.submitted._listeners.clear()
    try:
        for _ in range(rounds):
            for n, user in enumerate(people):
                answer_next(capture, project=project, user=user, preference="ab"[n % 2])
    finally:
        events.submitted._listeners.update(saved)


@pytest.mark.django_db
def test_answers_wait_as_a_backlog_that_the_dashboard_and_the_api_show(
    client, django_capture_on_commit_callbacks
):
    project, people, _, manager = make_quality_project(quality=NO_REVIEW)
    make_ranking_tasks(project, 4, overlap=3)
    submit_all(django_capture_on_commit_callbacks, project, people, rounds=2)
    backlog = backlog_for(project=project)
    assert backlog.waiting == 6
    assert backlog.oldest_seconds is not None
    assert not Task.objects.filter(status=TaskStatus.ACCEPTED).exists()

    as_manager = APIClient()
    as_manager.force_authenticate(manager)
    body = as_manager.get(f"/api/v1/projects/{project.pk}/").json()
    assert body["judging"]["waiting"] == 6
    as_contributor = APIClient()
    as_contributor.force_authenticate(people[0])
    assert "judging" not in as_contributor.get(f"/api/v1/projects/{project.pk}/").json()
    client.force_login(manager)
    page = client.get(reverse("quality:dashboard", args=[project.pk])).content.decode()
    assert "6</strong> submitted answers waiting to be judged" in page

    assert judging_run(project_id=project.pk) == 6
    assert backlog_for(project=project).waiting == 0
    assert Task.objects.filter(status=TaskStatus.ACCEPTED).count() == 2
    page = client.get(reverse("quality:dashboard", args=[project.pk])).content.decode()
    assert "No answer is waiting to be judged" in page


@pytest.mark.django_db
@override_settings(TASKS=DUMMY_TASKS)
def test_many_submits_queue_one_run_until_it_starts(django_capture_on_commit_callbacks):
    from django.tasks import default_task_backend

    project, *_ = make_quality_project()
    default_task_backend.clear()
    # after_submit runs once the submit has committed, outside any transaction: a backend that
    # does not keep tasks in the database gets the run once the request row has committed.
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(50):
            after_submit(annotation_id=n, project_id=project.pk)
    assert len(default_task_backend.results) == 1
    assert JudgingRequest.objects.filter(project=project).count() == 1
    judging_run(project_id=project.pk)  # the run takes the request first ...
    assert not JudgingRequest.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        after_submit(annotation_id=51, project_id=project.pk)  # ... a later answer queues anew
    assert len(default_task_backend.results) == 2
    assert default_task_backend.results[0].task.func is judge_project.func


@pytest.mark.django_db
def test_batches_count_every_answer_once_and_consolidate_every_task_once(
    django_capture_on_commit_callbacks,
):
    project, people, _, _ = make_quality_project(contributors=3, quality=NO_REVIEW)
    make_ranking_tasks(project, 10, overlap=2)
    submit_all(django_capture_on_commit_callbacks, project, people, rounds=6)  # 18 answers
    judged = []
    while count := judge_batch(project_id=project.pk, limit=4):  # a task's answers straddle
        judged.append(count)
    assert sum(judged) == 18
    assert Task.objects.filter(status=TaskStatus.ACCEPTED).count() == 9
    assert TaskOutcome.objects.filter(project=project).count() == 9
    assert not Annotation.objects.filter(judged_at=None).exists()
    for user in people:
        standing = ContributorStanding.objects.get(
            contributor__project=project, contributor__user=user
        )
        assert standing.submitted_count == 6
        assert standing.active_seconds == 6 * 30
        assert (
            standing.peer_agreement_count
            == Annotation.objects.filter(contributor=user, task__status=TaskStatus.ACCEPTED).count()
        )


@pytest.mark.django_db
def test_a_batch_costs_the_same_statements_whatever_its_size(django_capture_on_commit_callbacks):
    def statements_for(answers_per_person: int) -> int:
        project, people, _, _ = make_quality_project(contributors=2, quality=NO_REVIEW)
        make_ranking_tasks(project, answers_per_person, overlap=2)
        submit_all(django_capture_on_commit_callbacks, project, people, rounds=answers_per_person)
        with CaptureQueriesContext(connection) as queries:
            assert judge_batch(project_id=project.pk) == 2 * answers_per_person
        return len(queries)

    small, large = statements_for(3), statements_for(40)
    assert large == small
    assert large <= 16


@pytest.mark.django_db
def test_submitting_through_the_queue_judges_at_once_with_an_immediate_backend(
    django_capture_on_commit_callbacks,
):
    """The tests' (and ``make run``'s) immediate backend runs the step inside the submit's
    on-commit: nothing is left waiting."""
    project, people, _, _ = make_quality_project(contributors=1, quality=NO_REVIEW)
    make_ranking_tasks(project, 2)
    submit_all(django_capture_on_commit_callbacks, project, people, rounds=2, run_hooks=True)
    assert backlog_for(project=project).waiting == 0
    assert Task.objects.filter(status=TaskStatus.ACCEPTED).count() == 2


# --- several workers, and a worker killed in a batch (PostgreSQL, real processes) -------------


def run_judging(
    project_id: int, batch_size: int, *, gate: Path | None = None, **popen
) -> subprocess.Popen:
    """A judging worker in its own process. With ``gate``, it says it is ready (``gate`` + ".n"
    files) and waits for ``gate`` to exist, so that several start their run together."""
    wait = ""
    if gate is not None:
        wait = (
            "import os, pathlib, time\n"
            f"pathlib.Path({str(gate)!r} + '.' + str(os.getpid())).touch()\n"
            f"while not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.005)\n"
        )
    code = (
        "import django; django.setup()\n" + wait + "from quality.judging import judging_run\n"
        f"print(judging_run(project_id={project_id}, batch_size={batch_size}))\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(settings.BASE_DIR),
        "TEST_TASKS_BACKEND": "django.tasks.backends.dummy.DummyBackend",
    }
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        text=True,
        **popen,
    )


def standings_of(project) -> dict:
    return {
        s.contributor.user_id: (
            s.submitted_count,
            s.active_seconds,
            s.peer_agreement_count,
            round(s.peer_agreement_sum, 6),
            s.gold_error_count,
        )
        for s in ContributorStanding.objects.filter(contributor__project=project)
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_backlog_give_one_outcome_per_task_and_the_standing_of_one(
    django_capture_on_commit_callbacks, tmp_path
):
    projects = []
    for _ in range(2):
        project, people, _, _ = make_quality_project(contributors=4, quality=NO_REVIEW)
        make_ranking_tasks(project, 60, overlap=3)
        submit_all(django_capture_on_commit_callbacks, project, people, rounds=40)  # 160 answers
        projects.append(project)
    alone, shared = projects
    assert judging_run(project_id=alone.pk) == 160

    # Both processes start their run at once (on a busy machine the second one's start-up could
    # otherwise take longer than the first one's whole run).
    gate = tmp_path / "go"
    workers = [run_judging(shared.pk, batch_size=9, gate=gate) for _ in range(2)]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("go.*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.touch()
    counts = [int(worker.communicate(timeout=120)[0].strip()) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    assert sum(counts) == 160
    assert min(counts) > 0, "one worker did all the work: the test did not run them together"
    assert not Annotation.objects.filter(task__project=shared, judged_at=None).exists()
    per_task = TaskOutcome.objects.filter(project=shared).values("task").annotate(n=Count("pk"))
    assert {row["n"] for row in per_task} == {1}
    assert (
        per_task.count() == Task.objects.filter(project=shared, status=TaskStatus.ACCEPTED).count()
    )
    assert per_task.count() == 40 * 4 // 3
    assert sorted(standings_of(shared).values()) == sorted(standings_of(alone).values())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_a_batch_leaves_it_whole_for_the_next(
    django_capture_on_commit_callbacks,
):
    project, people, _, _ = make_quality_project(contributors=3, quality=NO_REVIEW)
    make_ranking_tasks(project, 400, overlap=3)
    submit_all(django_capture_on_commit_callbacks, project, people, rounds=400)  # 1,200 answers
    table = Annotation._meta.db_table
    worker = run_judging(project.pk, batch_size=5000, start_new_session=True)
    try:
        in_batch = False
        with connection.cursor() as cursor:
            for _ in range(2000):  # until the batch holds its row locks on the answers
                cursor.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = %s AND l.mode = 'RowShareLock' "
                    "AND l.pid <> pg_backend_pid()",
                    [table],
                )
                if cursor.fetchone()[0]:
                    in_batch = True
                    break
                time.sleep(0.005)
        assert in_batch, "the worker never started its batch"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        with connection.cursor() as cursor:
            for _ in range(500):  # until PostgreSQL has rolled the dead worker's batch back
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.01)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    assert Annotation.objects.filter(task__project=project, judged_at=None).count() == 1200
    assert not TaskOutcome.objects.filter(project=project).exists()
    assert not ContributorStanding.objects.filter(
        contributor__project=project, submitted_count__gt=0
    ).exists()

    subprocess.run(
        [sys.executable, "manage.py", "consolidate_pending"],
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "tests.settings",
        },
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
    )
    assert not Annotation.objects.filter(task__project=project, judged_at=None).exists()
    assert TaskOutcome.objects.filter(project=project).count() == 400
    totals = ContributorStanding.objects.filter(contributor__project=project).aggregate(
        n=Sum("submitted_count")
    )
    assert totals["n"] == 1200
    assert ProjectContributor.objects.filter(project=project).count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bench_judging_times_real_workers_and_checks_exactness(monkeypatch):
    import json
    from io import StringIO

    from django.core.management import call_command

    from labelhub.models import Project

    monkeypatch.setenv("DATABASE_URL", database_url())
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.settings")
    monkeypatch.setenv("TEST_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
    out = StringIO()
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        call_command("bench_judging", answers=300, overlap=2, callbacks=True, stdout=out)
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["answers"] == 300
    assert figures["worker_cpu_ms_per_answer"] > 0
    assert figures["answers_per_s"] > 0
    assert not Project.objects.exists()


def test_a_worker_takes_judging_and_its_deliveries_before_imports_and_exports():
    """A submission is done only when judged and delivered: judging runs and the deliveries they
    make share the head of the queue, first come first served (below judging, deliveries waited
    as long as a busy project kept a run queued), ahead of imports and exports."""
    from annotation.tasks import import_job_process
    from annotation.webhooks import deliver_webhook, deliver_webhooks
    from exports.tasks import export_job_process

    assert judge_project.priority == deliver_webhooks.priority == deliver_webhook.priority
    assert judge_project.priority > max(import_job_process.priority, export_job_process.priority)


DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _judging_runs():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path__endswith=".judge_project")


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_TASKS, JUDGING_GATHER_SECONDS=0.5)
def test_a_run_waits_to_gather_the_answers_submitted_after_the_first(monkeypatch):
    """A run started at once took the one or two answers that came while the last one ran: the
    worker ran without a pause beside a single annotator, at three times the CPU per answer of a
    batch. The first waiting answer queues a run half a second ahead, not ready before then; the
    answers submitted meanwhile queue nothing more."""
    from django.utils import timezone

    project, *_ = make_quality_project()
    before = timezone.now()
    for n in range(20):
        after_submit(annotation_id=n, project_id=project.pk)
    run = _judging_runs().get()
    assert 0.45 <= (run.run_after - before).total_seconds() <= 0.6
    assert not _judging_runs().ready().exists()
    # A run that judged a full batch asks for a second one to share the backlog: at once.
    JudgingRequest.objects.all().delete()
    run.delete()
    monkeypatch.setattr("quality.tasks.judging_run", lambda **kwargs: kwargs["on_full_batch"]())
    judge_project.call(project.pk)
    assert _judging_runs().ready().count() == 1


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_TASKS, JUDGING_GATHER_SECONDS=0)
def test_no_gathering_runs_at_once():
    project, *_ = make_quality_project()
    after_submit(annotation_id=1, project_id=project.pk)
    assert _judging_runs().ready().count() == 1
