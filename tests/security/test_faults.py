"""Processes killed in the middle of work, on PostgreSQL with real servers and workers.

1. gunicorn is killed (SIGKILL to the whole process group) while contributors submit over HTTP,
   then started again: every acknowledged submit is stored exactly once, every submit whose
   answer was lost is sent again and is idempotent (201 the first time it lands, 200 after), drafts
   are what was last acknowledged, and leases of the vanished clients come back to the queue.
2. ``manage.py db_worker`` is killed while it is sending a webhook (the receiver is slow): the
   delivery row stays pending (its attempt rolled back), and after a restart the delivery
   completes once: one recorded attempt, status delivered, the receiver saw one delivery id.
"""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from annotation import queue
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    DeliveryStatus,
    Task,
    WebhookDelivery,
)
from labelhub.accounts import api_token_issue
from labelhub.models import ProjectMember, Role
from tests.annotation.test_queue_concurrency import database_url
from tests.factories import make_project, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RESULT = {"preference": "a", "strength": 2}


def child_env(**extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(settings.BASE_DIR),
        "TEST_TASKS_BACKEND": "django.tasks.backends.dummy.DummyBackend",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "critical",
        ],
        cwd=settings.BASE_DIR,
        env=child_env(),
        start_new_session=True,  # its own process group: killed whole, master and workers
    )
    for _ in range(1200):  # a loaded machine may take long to start it
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("gunicorn did not start")


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


class Contributor:
    """One contributor over HTTP who remembers what the server acknowledged."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.acked: dict[int, int] = {}  # assignment → annotation
        self.unacked: list[int] = []  # submits whose answer never came
        self.drafts: dict[int, dict] = {}  # assignment → last acknowledged draft
        self.retried: list[tuple[int, int, int]] = []  # (assignment, status, annotation)
        self.errors: list[str] = []

    def call(self, method: str, path: str, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(
                method,
                path,
                body=json.dumps(body) if body is not None else "",
                headers={
                    "Authorization": f"Token {self.token}",
                    "Content-Type": "application/json",
                    "Host": "127.0.0.1",
                },
            )
            response = conn.getresponse()
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
        finally:
            conn.close()

    def run(self, project_id: int, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.step(project_id)
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)  # the server is down: try again shortly
            except AssertionError as error:  # an unexpected answer: the test reports it
                self.errors.append(repr(error))
                return

    def step(self, project_id: int) -> None:
        for assignment in list(self.unacked):  # first, resend what was never acknowledged
            status, body = self.call(
                "POST", f"/api/v1/assignments/{assignment}/submit/", {"result": RESULT}
            )
            assert status in (200, 201), (status, body)
            self.unacked.remove(assignment)
            self.acked[assignment] = body["annotation"]
            self.retried.append((assignment, status, body["annotation"]))
        status, body = self.call("POST", f"/api/v1/projects/{project_id}/next/")
        if status == 204:
            time.sleep(0.05)
            return
        assert status == 200, (status, body)
        assignment = body["assignment"]["id"]
        if assignment in self.drafts:  # the same lease came back after a restart
            assert body["assignment"]["draft"] == self.drafts[assignment]
        draft = {**RESULT, "strength": 1 + assignment % 3}
        status, saved = self.call(
            "PUT", f"/api/v1/assignments/{assignment}/draft/", {"result": draft}
        )
        assert status == 200, (status, saved)
        self.drafts[assignment] = draft
        self.unacked.append(assignment)
        status, body = self.call(
            "POST", f"/api/v1/assignments/{assignment}/submit/", {"result": RESULT}
        )
        assert status in (200, 201), (status, body)
        self.unacked.remove(assignment)
        self.acked[assignment] = body["annotation"]


def wait_for_traffic(clients: list[Contributor], acknowledged: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while sum(len(c.acked) for c in clients) < acknowledged and time.monotonic() < deadline:
        time.sleep(0.05)


def test_killing_the_app_server_mid_submit_loses_and_duplicates_nothing():
    people = [make_user() for _ in range(6)]
    project = make_project(
        kind="ranking", members=dict.fromkeys(people, Role.CONTRIBUTOR), quality={"overlap": 1}
    )
    data = {"prompt": "?", "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]}
    Task.objects.bulk_create(Task(project=project, data=data) for _ in range(400))
    port = free_port()
    server = start_gunicorn(port)
    clients = [Contributor(port, api_token_issue(user=p).key) for p in people]
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(project.pk, stop)) for c in clients]
    try:
        for thread in threads:
            thread.start()
        for target in (10, 20):  # two crashes, each in the middle of the traffic
            wait_for_traffic(clients, target)
            kill_group(server)
            time.sleep(0.3)
            server = start_gunicorn(port)
        wait_for_traffic(clients, 30)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        kill_group(server)

    assert [e for c in clients for e in c.errors] == []
    acked = {a: n for c in clients for a, n in c.acked.items()}
    assert len(acked) >= 30, "too little traffic to prove anything"
    stored = dict(
        Annotation.objects.filter(task__project=project).values_list("assignment_id", "pk")
    )
    # every acknowledged submit is stored, as the annotation the server named, and nothing else
    unacked = {a for c in clients for a in c.unacked}
    assert {a: stored[a] for a in acked} == acked
    assert set(stored) - set(acked) <= unacked
    per_assignment = Annotation.objects.values("assignment_id").annotate(n=Count("pk"))
    assert all(row["n"] == 1 for row in per_assignment)
    # answer counts agree with the rows: nothing counted twice by a retried submit
    for task in Task.objects.filter(project=project).annotate(n=Count("annotations")):
        assert task.answer_count == task.n, task.pk
    # drafts of leases still open are the last acknowledged ones
    for client in clients:
        for assignment in client.unacked:
            row = Assignment.objects.get(pk=assignment)
            if row.status == AssignmentStatus.ACTIVE:
                assert row.draft == client.drafts[assignment]
    # leases held by clients that vanished come back to the queue once their time is up
    Assignment.objects.filter(project=project, status=AssignmentStatus.ACTIVE).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    newcomer = make_user()
    ProjectMember.objects.create(project=project, user=newcomer, role=Role.CONTRIBUTOR)
    assert queue.assignment_claim_next(project=project, contributor=newcomer) is not None
    stale = Assignment.objects.filter(
        project=project, status=AssignmentStatus.ACTIVE, lease_expires_at__lt=timezone.now()
    )
    assert not stale.exists(), "expired leases were not reclaimed"
    assert Task.objects.filter(project=project, answer_count=0).count() == 400 - len(stored)


class SlowReceiver(BaseHTTPRequestHandler):
    """A webhook receiver that is slow the first time (the worker is killed meanwhile)."""

    seen: list[str] = []
    delay = 6.0

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append(self.headers["X-LabelHub-Delivery"])
        if len(type(self).seen) == 1:
            time.sleep(type(self).delay)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_killing_the_worker_mid_webhook_resumes_and_delivers_once():
    SlowReceiver.seen = []
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), SlowReceiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    project = make_project(kind="ranking")
    task = Task.objects.create(project=project, data={}, callback_url=url)
    delivery = WebhookDelivery.objects.create(
        project=project,
        task=task,
        event="task.accepted",
        url=url,
        payload={"event": "task.accepted", "task": {"id": task.pk}},
        next_attempt_at=timezone.now(),
    )
    env = child_env(
        TEST_TASKS_BACKEND="django_tasks_db.DatabaseBackend", WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1"
    )
    enqueue = (
        "import django; django.setup()\n"
        "from annotation.webhooks import deliver_webhook\n"
        f"deliver_webhook.enqueue({delivery.pk})\n"
    )
    subprocess.run([sys.executable, "-c", enqueue], env=env, check=True, cwd=settings.BASE_DIR)
    worker_command = [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "-v", "0"]
    worker = subprocess.Popen(
        worker_command, env=env, cwd=settings.BASE_DIR, start_new_session=True
    )
    try:
        for _ in range(1200):  # until the worker is inside the HTTP call (a loaded machine: 60 s)
            if SlowReceiver.seen:
                break
            time.sleep(0.05)
        assert SlowReceiver.seen, "the worker never called the receiver"
        kill_group(worker)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING  # the attempt died with its transaction
        assert delivery.attempts == 0
        # a new worker and the housekeeping command (run from cron, or by hand after an outage)
        worker = subprocess.Popen(
            worker_command, env=env, cwd=settings.BASE_DIR, start_new_session=True
        )
        subprocess.run(
            [sys.executable, "manage.py", "deliver_webhooks"],
            env=env,
            cwd=settings.BASE_DIR,
            check=True,
            capture_output=True,
        )
        time.sleep(1.0)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DELIVERED
        assert delivery.attempts == 1
        # the receiver saw this delivery's id twice (the first answer never reached us): the
        # id is how receivers drop the repeat; one more housekeeping run sends nothing
        assert SlowReceiver.seen == [str(delivery.pk), str(delivery.pk)]
        subprocess.run(
            [sys.executable, "manage.py", "deliver_webhooks"],
            env=env,
            cwd=settings.BASE_DIR,
            check=True,
            capture_output=True,
        )
        assert len(SlowReceiver.seen) == 2
    finally:
        kill_group(worker)
        receiver.shutdown()
    assert connection.vendor == "postgresql"
