"""Many contributors at once, in several OS processes and threads, on PostgreSQL.

Every task must end with exactly ``overlap`` answers from different people, with every stored
submission accounted for and no errors.
"""

import json
import os
import subprocess
import sys
import threading
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from annotation.models import Annotation, Assignment, AssignmentStatus, Task, TaskStatus
from labelhub.content import content_opt_outs_set
from labelhub.models import Organization
from tests.annotation.helpers import make_queue_project
from tests.annotation.queue_worker import run_threads

TASKS = 2000
VIOLENCE = 1  # the built-in category's bit
OVERLAP = 3


def keep_statistics_fresh(stop: threading.Event) -> None:
    """Stand in for autovacuum, which analyzes once a minute (longer than this test): without
    statistics the planner takes the growing assignment table for empty and scans it whole."""
    from django.db import connection as own

    try:
        while not stop.wait(2):
            with own.cursor() as cursor:
                cursor.execute("ANALYZE annotation_assignment")
    finally:
        own.close()


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_processes_and_threads_fill_every_task_exactly():
    project, people = make_queue_project(contributors=12)
    # Three tasks in ten carry a content category that a third of the crowd (spread over the
    # processes and threads) opted out of: their claims take the queue of unmarked tasks.
    Task.objects.bulk_create(
        Task(project=project, data={"n": i}, overlap=OVERLAP, priority=i % 7,
             content_flags=VIOLENCE if i % 10 < 3 else 0)
        for i in range(TASKS)
    )  # fmt: skip
    project.task_content_flags = VIOLENCE
    project.save(update_fields=["task_content_flags"])
    opted_out = people[::3]
    # No daily cap of sensitive work: the workers' simulated minutes would reach it and keep the
    # marked tasks from everyone, which is the cap's job (tested in test_content.py), not this.
    Organization.objects.filter(pk=project.organization_id).update(sensitive_minutes_per_day=0)
    for person in opted_out:
        content_opt_outs_set(organization=project.organization, user=person, names=["violence"])
    ids = [person.pk for person in people]
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(settings.BASE_DIR),
        # The quality step after each submit is background work in production; here it is off,
        # so that the workers measure the queue alone.
        "TEST_TASKS_BACKEND": "django.tasks.backends.dummy.DummyBackend",
    }
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.annotation.queue_worker",
                str(project.pk),
                *map(str, chunk),
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for chunk in (ids[0:4], ids[4:8])
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotation_task")
    stop = threading.Event()
    analyzer = threading.Thread(target=keep_statistics_fresh, args=(stop,))
    analyzer.start()
    try:
        reports = run_threads(project_id=project.pk, user_ids=ids[8:])
    finally:
        stop.set()
        analyzer.join()
    for process in processes:
        stdout, stderr = process.communicate(timeout=200)
        assert process.returncode == 0, stderr
        reports.update({int(k): v for k, v in json.loads(stdout).items()})

    assert len(reports) == 12
    assert [r["errors"] for r in reports.values() if r["errors"]] == []
    reported = [a for r in reports.values() for a in r["annotations"]]
    counts = Counter()
    for r in reports.values():
        counts.update(r["counts"])
    assert counts["skip"] > 0, counts
    assert counts["abandon"] > 0, counts

    # No lost submission, none stored twice, none stored that nobody was told about.
    assert len(reported) == len(set(reported))
    assert set(reported) == set(Annotation.objects.values_list("pk", flat=True))
    assert len(reported) == TASKS * OVERLAP

    # Every task: exactly three answers from three different people, counters at rest.
    per_task = Annotation.objects.values("task").annotate(
        n=Count("id"), people=Count("contributor", distinct=True)
    )
    assert {(row["n"], row["people"]) for row in per_task} == {(OVERLAP, OVERLAP)}
    assert len(per_task) == TASKS
    assert set(Task.objects.values_list("status", "answer_count", "lease_count")) == {
        (TaskStatus.ANNOTATED, OVERLAP, 0)
    }
    assert not Assignment.objects.filter(status=AssignmentStatus.ACTIVE).exists()
    # Nobody was given a task they opted out of.
    assert not Annotation.objects.filter(
        contributor__in=opted_out, task__content_flags=VIOLENCE
    ).exists()
    assert Annotation.objects.filter(contributor__in=opted_out).count() > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_claims_of_one_person_at_once_give_them_one_lease(monkeypatch):
    """Two tabs, or a script retrying "next" while its first call is still running: the second
    claim waits for the first one's lock on the person's row, and must then hand back the lease
    the first one made, not take a second task. The first claim is held inside its lease step so
    that the second one is surely waiting on the row when the first commits."""
    import time

    from annotation import queue, queue_sql

    project, (ana,) = make_queue_project(contributors=1)
    Task.objects.bulk_create(Task(project=project, data={"n": i}) for i in range(5))
    first = queue.assignment_claim_next(project=project, contributor=ana)
    Assignment.objects.filter(pk=first.pk).delete()  # the person's row exists; no lease yet
    Task.objects.filter(pk=first.task_id).update(lease_count=0)

    lease_next_task = queue_sql.lease_next_task
    slow = threading.Event()

    def held(**kwargs):
        if threading.current_thread().name == "first":
            slow.set()
            time.sleep(0.5)  # the second claim is waiting on the person's row meanwhile
        return lease_next_task(**kwargs)

    monkeypatch.setattr(queue_sql, "lease_next_task", held)
    leases: dict[str, int] = {}

    def claim(name: str) -> None:
        from django.db import connection as own

        try:
            leases[name] = queue.assignment_claim_next(project=project, contributor=ana).pk
        finally:
            own.close()

    one = threading.Thread(target=claim, args=("first",), name="first")
    one.start()
    assert slow.wait(5)
    two = threading.Thread(target=claim, args=("second",), name="second")
    two.start()
    one.join(10)
    two.join(10)
    live = Assignment.objects.filter(contributor=ana, status=AssignmentStatus.ACTIVE)
    assert leases["first"] == leases["second"]
    assert live.count() == 1
    assert Task.objects.get(pk=live.get().task_id).lease_count == 1
