"""The background worker rides out a cut database connection (issue #24, item 3).

Before: ``manage.py db_worker`` (django-tasks-db's loop) let the ``OperationalError`` of its claim
out and exited; the probe left 764 of 900 webhook deliveries pending until someone restarted it.
Then it no longer exited, but a task whose connection was cut mid-run was recorded FAILED and its
work left to the cron sweeps. Here the worker's PostgreSQL backends are terminated again and again
(``pg_terminate_backend``) while answers are submitted and deliveries queued; every answer is judged
and every delivery made by the same worker process, which never exits, with no sweep
(``consolidate_pending``, ``deliver_webhooks``) run and no task recorded FAILED.
"""

import random
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from annotation.models import Annotation, DeliveryStatus, WebhookDelivery
from tests.quality.helpers import make_quality_project, make_ranking_tasks
from tests.security.test_faults import child_env, kill_group

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DELIVERIES = 300
ANSWERS = 60
KILLS = 8
WORKER_APP = "lh-test-worker"  # the worker's connections are told apart by application_name


class Receiver(BaseHTTPRequestHandler):
    seen: set[str] = set()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.add(self.headers["X-LabelHub-Delivery"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


LOAD = """
import sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from annotation import queue
from annotation.models import Task, WebhookDelivery
from annotation.webhooks import deliver_webhook
from labelhub.models import Project

project = Project.objects.get(pk=int(sys.argv[1]))
url = sys.argv[2]
people = list(get_user_model().objects.filter(pk__in=[int(p) for p in sys.argv[3].split(",")]))
task = Task.objects.filter(project=project).first()
answers = 0
for n in range({deliveries}):
    delivery = WebhookDelivery.objects.create(
        project=project, task=task, event="task.accepted", url=url,
        payload={{"event": "task.accepted", "n": n}}, next_attempt_at=timezone.now(),
    )
    deliver_webhook.enqueue(delivery.pk)
    if n % 5 == 0:
        person = people[n % len(people)]
        lease = queue.assignment_claim_next(project=project, contributor=person)
        if lease is not None:
            queue.annotation_submit(
                assignment_id=lease.pk, contributor=person,
                result={{"preference": "a", "strength": 1}}, active_seconds=5,
            )
            answers += 1
print(answers)
"""


def _terminate_worker_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [WORKER_APP],
        )
        return cursor.fetchone()[0]


def test_the_worker_survives_its_connection_cut_mid_claim_and_does_all_the_work():
    Receiver.seen = set()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    project, people, _reviewer, _manager = make_quality_project(contributors=3)
    make_ranking_tasks(project, ANSWERS)
    env = child_env(
        TEST_TASKS_BACKEND="django_tasks_db.DatabaseBackend", WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1"
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-startup-delay",
            "--interval",
            "0.05",
            "-v",
            "0",
        ],
        env={**env, "PGAPPNAME": WORKER_APP},
        cwd=settings.BASE_DIR,
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
    )
    load = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LOAD.format(deliveries=DELIVERIES),
            str(project.pk),
            url,
            ",".join(str(p.pk) for p in people),
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    log: list[str] = []  # the worker's stderr, read as it comes so the cuts can stop once one hit
    threading.Thread(target=lambda: log.extend(worker.stderr), daemon=True).start()

    def lost() -> bool:
        return any("Lost the database" in line or "queued again" in line for line in log)

    def requeued() -> int:
        return sum("queued again after" in line for line in log)

    try:
        cut = 0
        # Cut the worker off all through the load, and on while it works through the queue until
        # a cut has landed inside a claim or a task: a cut while it sleeps between polls is healed
        # silently by Django's connection health check and proves nothing.
        cutting_until = time.monotonic() + 120
        while (
            cut < KILLS or load.poll() is None or (not lost() and time.monotonic() < cutting_until)
        ):
            time.sleep(0.3 if cut < KILLS * 3 else random.uniform(0.01, 0.1))
            if cut < KILLS * 3 or not lost():
                cut += _terminate_worker_connections()
            assert worker.poll() is None, f"the worker exited: {''.join(log)[-2000:]}"
        out, _ = load.communicate(timeout=60)
        assert load.returncode == 0
        answered = int(out.strip())
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            pending = WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).count()
            unjudged = Annotation.objects.filter(judged_at=None).count()
            queued = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()
            if not queued:
                break  # all the worker will do; no cron sweep runs here
            assert worker.poll() is None, f"the worker exited: {''.join(log)[-2000:]}"
            time.sleep(0.2)
        failed = list(DBTaskResult.objects.filter(status="FAILED").values_list("traceback"))
        print(
            f"connections cut: {cut}; runs queued again: {requeued()}; "
            f"deliveries left: {pending} of {DELIVERIES}; answers left: {unjudged} of {answered}"
        )
        assert not queued, "the worker did not empty its queue in three minutes"
        assert failed == []  # a task cut off its database runs again; it is never recorded failed
        assert cut >= KILLS, "the worker's connections were not cut often enough"
        assert worker.poll() is None  # the same process, never restarted
        undelivered = list(
            WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).values(
                "pk", "status", "attempts", "next_attempt_at", "last_error"
            )
        )
        assert undelivered == []
        assert {str(pk) for pk in WebhookDelivery.objects.values_list("pk", flat=True)} <= (
            Receiver.seen
        )
        assert answered == Annotation.objects.count() > 0
        assert not Annotation.objects.filter(judged_at=None).exists()
        assert Annotation.objects.filter(judged_at__lte=timezone.now()).count() == answered
    finally:
        kill_group(worker)
        receiver.shutdown()
    assert lost(), "no cut landed inside a claim or a task"
