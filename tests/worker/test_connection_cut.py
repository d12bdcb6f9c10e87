"""A connection cut inside a background task loses no work (issue #24, item 3), on PostgreSQL.

The worker's own backend is terminated (``pg_terminate_backend``) at a chosen point inside a
judging batch's transaction, or inside a batch of webhook attempts: the task gets Django's
``OperationalError``, the worker queues it again, and its rerun judges every answer and makes
every delivery. No cron sweep (``consolidate_pending``, ``deliver_webhooks``) runs here, and no
task is recorded FAILED.
"""

import threading
import time
from http.server import ThreadingHTTPServer

import psycopg
import pytest
from django.db import connection, connections
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from annotation import webhooks
from annotation.models import Annotation, DeliveryStatus, Task, TaskStatus, WebhookDelivery
from quality import judging
from tests.quality.helpers import make_quality_project, make_ranking_tasks
from tests.quality.test_judging import NO_REVIEW, submit_all
from tests.security.test_worker_faults import Receiver
from worker.resilient import ResilientWorker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DATABASE_TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "sandbox"]}
}


def terminate_own_backend() -> None:
    """End this thread's PostgreSQL backend from another connection, and wait until it is gone
    (so the next statement of this connection fails, every time)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    side = connections.create_connection("default")
    try:
        with side.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _ in range(500):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if not cursor.fetchone()[0]:
                    return
                time.sleep(0.01)
        raise AssertionError("the backend outlived its termination")
    finally:
        side.close()


def restart_database(seconds: float) -> threading.Thread:
    """What a database restart looks like to the worker: its backend ends, and for ``seconds``
    every new connection is refused ("database … is not currently accepting connections");
    then connections are allowed again. Returns once the backend is gone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    down = threading.Event()

    def outage():
        # A database cannot refuse connections from inside itself: this one is to "postgres".
        params = {**connection.get_connection_params(), "dbname": "postgres"}
        params.pop("cursor_factory", None)
        with psycopg.connect(**params, autocommit=True) as side:
            side.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
            try:
                side.execute("SELECT pg_terminate_backend(%s)", [pid])
                for _ in range(500):
                    gone = side.execute(
                        "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = %s", [pid]
                    ).fetchone()[0]
                    if gone:
                        break
                    time.sleep(0.01)
                down.set()
                time.sleep(seconds)
            finally:
                side.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
                down.set()

    thread = threading.Thread(target=outage)
    thread.start()
    down.wait(30)
    return thread


def cut_once(function):
    """``function`` that terminates its connection's backend the first time it is called."""
    calls = []

    def cut_then_call(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            terminate_own_backend()
        return function(*args, **kwargs)

    cut_then_call.calls = calls
    return cut_then_call


def work_until_done(worker: ResilientWorker) -> None:
    """Run the worker in batches until no task is waiting (a task queued again waits 0.5 s)."""
    deadline = time.monotonic() + 60
    while DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
        assert time.monotonic() < deadline, "the queue never emptied"
        worker.run()
        time.sleep(0.05)


@pytest.fixture
def receiver_url():
    Receiver.seen = set()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    receiver.shutdown()


@pytest.fixture
def worker():
    with override_settings(TASKS=DATABASE_TASKS, WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True):
        yield ResilientWorker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="worker-under-test",
            excluded_queue_names=[],
        )


def _project_with_answers(capture, url: str):
    project, people, _, _ = make_quality_project(contributors=3, quality=NO_REVIEW)
    make_ranking_tasks(project, 12, overlap=3, callback_url=url)
    # Submits queue judging runs as in production (a request row and its task).
    submit_all(capture, project, people, rounds=12, run_hooks=True)
    assert Annotation.objects.filter(judged_at=None).count() == 36
    return project


def _assert_all_done(project) -> None:
    assert not Annotation.objects.filter(judged_at=None).exists()
    assert Task.objects.filter(project=project, status=TaskStatus.ACCEPTED).count() == 12
    deliveries = WebhookDelivery.objects.filter(project=project)
    assert deliveries.count() == 12
    assert not deliveries.exclude(status=DeliveryStatus.DELIVERED).exists()
    assert {str(pk) for pk in deliveries.values_list("pk", flat=True)} <= Receiver.seen
    assert not DBTaskResult.objects.filter(status="FAILED").exists()


def test_a_connection_cut_inside_a_judging_batch_leaves_no_answer_unjudged(
    django_capture_on_commit_callbacks, receiver_url, worker, monkeypatch
):
    project = _project_with_answers(django_capture_on_commit_callbacks, receiver_url)
    cut = cut_once(judging.answers_judged)  # called inside the batch's transaction
    monkeypatch.setattr(judging, "answers_judged", cut)
    work_until_done(worker)
    assert len(cut.calls) >= 2  # the cut batch, then its rerun
    assert worker.interruptions == 1
    _assert_all_done(project)


def test_a_connection_cut_inside_a_batch_of_deliveries_leaves_none_pending(
    django_capture_on_commit_callbacks, receiver_url, worker, monkeypatch
):
    project = _project_with_answers(django_capture_on_commit_callbacks, receiver_url)
    cut = cut_once(webhooks._attempt_and_note)  # called with the deliveries' rows locked
    monkeypatch.setattr(webhooks, "_attempt_and_note", cut)
    work_until_done(worker)
    assert worker.interruptions == 1
    _assert_all_done(project)


def test_the_worker_waits_out_a_database_restart_inside_a_batch_and_loses_nothing(
    django_capture_on_commit_callbacks, receiver_url, worker, monkeypatch
):
    project = _project_with_answers(django_capture_on_commit_callbacks, receiver_url)
    outages = []

    def restart_then_judge(*args, **kwargs):
        if not outages:
            outages.append(restart_database(3.0))
        return answers_judged(*args, **kwargs)

    answers_judged = judging.answers_judged
    monkeypatch.setattr(judging, "answers_judged", restart_then_judge)
    started = time.monotonic()
    work_until_done(worker)
    outages[0].join()
    assert time.monotonic() - started >= 3.0  # it did wait for the database
    assert worker.interruptions == 1
    assert worker.reconnections >= 2  # refused, backed off, tried again
    _assert_all_done(project)
