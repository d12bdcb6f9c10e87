"""Measure LabelHub over real HTTP: ``python manage.py bench [queue] [options]``.

Sections are subcommands so that import and export figures can join later; ``queue`` is the
default and the only one today. It:

1. builds a project of ``--tasks`` preference-ranking tasks (default 1,000,000 on PostgreSQL,
   10,000 on SQLite) with PostgreSQL's COPY, or ``bulk_create`` in big batches on SQLite,
   and 33 contributors with API tokens;
2. starts gunicorn on 127.0.0.1 only (a free port, bounded by ``--max-seconds``: it is stopped
   when the bench ends, fails, or runs out of time);
3. from one client, times ``POST /projects/{id}/next/`` and ``POST /assignments/{id}/submit/``
   (p50/p95/p99 over ``--samples`` cycles, after a warm-up);
4. with 8 and 32 concurrent clients (one contributor each, keep-alive connections), counts
   next+submit cycles per second over ``--seconds`` each;
5. prints a table and one JSON line, then deletes the project (unless ``--keep``).
"""

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.db.models import QuerySet
from rest_framework.authtoken.models import Token

from annotation.models import Annotation, Assignment, ProjectContributor, Task
from labelhub import kinds
from labelhub.models import Organization, OrganizationMember, Project, ProjectMember, Role

BENCH_ORG = "labelhub-bench"
RESULT = {"preference": "a", "strength": 2}


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def summary(values: list[float]) -> dict:
    return {
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2),
        "mean": round(statistics.fmean(values), 2) if values else None,
        "n": len(values),
    }


class ApiConnection:
    """One contributor's keep-alive HTTP connection to the server under test (loopback only)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Host": "127.0.0.1",
        }
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def call(self, method: str, path: str, body: dict | None) -> tuple[int, dict | None, float]:
        """Status, parsed JSON (or None) and milliseconds; status 0 when the connection failed."""
        payload = json.dumps(body) if body is not None else ""
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=payload, headers=self.headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (http.client.HTTPException, OSError):
            self.reconnect()
            return 0, None, (time.perf_counter() - started) * 1000
        elapsed = (time.perf_counter() - started) * 1000
        if response.getheader("Connection", "").lower() == "close":
            self.reconnect()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, parsed, elapsed


class Client(ApiConnection):
    """The bench's client: a dropped connection is retried once; a server error stops the bench."""

    def post(self, path: str, body: dict | None = None) -> tuple[int, dict | None, float]:
        status, parsed, elapsed = self.call("POST", path, body)
        if status == 0:
            status, parsed, elapsed = self.call("POST", path, body)
            if status == 0:
                raise CommandError(f"{path}: the connection failed twice")
        if status >= 500:
            raise CommandError(f"{path} answered {status}: see the server's log")
        return status, parsed, elapsed

    def cycle(self, project_id: int) -> tuple[float, float] | None:
        """One next+submit; the two latencies in ms, or None when the queue is empty."""
        status, body, next_ms = self.post(f"/api/v1/projects/{project_id}/next/")
        if status == 204:
            return None
        if status != 200:
            raise CommandError(f"next answered {status}: {body}")
        assignment = body["assignment"]["id"]
        status, body, submit_ms = self.post(
            f"/api/v1/assignments/{assignment}/submit/", {"result": RESULT, "active_seconds": 3}
        )
        if status not in (200, 201):
            raise CommandError(f"submit answered {status}: {body}")
        return next_ms, submit_ms


@dataclass
class QueueFigures:
    tasks: int
    build_seconds: float
    next_ms: dict = field(default_factory=dict)
    submit_ms: dict = field(default_factory=dict)
    throughput: dict = field(default_factory=dict)


class Command(BaseCommand):
    help = "Benchmark LabelHub over real HTTP (gunicorn on 127.0.0.1). Sections: queue."

    def add_arguments(self, parser):
        sections = parser.add_subparsers(dest="section")
        queue = sections.add_parser("queue", help="next-task and submit latency, throughput")
        for target in (parser, queue):
            self.add_queue_arguments(target)

    def add_queue_arguments(self, parser):
        parser.add_argument("--tasks", type=int, default=None, help="tasks in the project")
        parser.add_argument("--overlap", type=int, default=1, help="answers wanted per task")
        parser.add_argument("--samples", type=int, default=500, help="single-client cycles")
        parser.add_argument("--seconds", type=float, default=10.0, help="per throughput run")
        parser.add_argument(
            "--concurrency", default="8,32", help="comma-separated numbers of clients"
        )
        parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
        parser.add_argument("--threads", type=int, default=4, help="gunicorn threads/worker")
        parser.add_argument("--max-seconds", type=int, default=900, help="hard stop for the run")
        parser.add_argument("--keep", action="store_true", help="keep the bench project")

    def handle(self, *args, **options):
        section = options.get("section") or "queue"
        if section == "queue":
            self.bench_queue(options)

    # The queue section ---------------------------------------------------------------------

    def bench_queue(self, options) -> None:
        postgres = connection.vendor == "postgresql"
        n = options["tasks"] or (1_000_000 if postgres else 10_000)
        concurrency = [int(c) for c in options["concurrency"].split(",") if c.strip()]
        clients_needed = max([1, *concurrency]) + 1
        kinds.get("ranking")  # the bench answers preference-ranking tasks

        started = time.perf_counter()
        project, tokens = self.build_project(n=n, overlap=options["overlap"], people=clients_needed)
        figures = QueueFigures(tasks=n, build_seconds=round(time.perf_counter() - started, 1))
        self.stdout.write(f"built {n:,} tasks in {figures.build_seconds} s")
        try:
            with self.server(options) as port:
                self.measure_single(figures, port, project, tokens[0], options["samples"])
                for c in concurrency:
                    figures.throughput[str(c)] = self.measure_throughput(
                        port, project, tokens[1 : c + 1], options["seconds"]
                    )
        finally:
            if not options["keep"]:
                self.delete_project(project)
        self.report(figures, options)

    def build_project(self, *, n: int, overlap: int, people: int):
        organization, _ = Organization.objects.get_or_create(
            slug=BENCH_ORG, defaults={"name": "LabelHub bench"}
        )
        kind = kinds.get("ranking")
        project = Project.objects.create(
            organization=organization,
            name=f"bench {n} tasks {time.time_ns()}",
            kind="ranking",
            schema=kind.default_schema(),
            quality={"overlap": overlap},
        )
        User = get_user_model()
        tokens = []
        for i in range(people):
            user, _ = User.objects.get_or_create(username=f"bench-contributor-{i}")
            OrganizationMember.objects.get_or_create(organization=organization, user=user)
            ProjectMember.objects.create(project=project, user=user, role=Role.CONTRIBUTOR)
            tokens.append(Token.objects.get_or_create(user=user)[0].key)
        if connection.vendor == "postgresql":
            self.copy_tasks(project=project, n=n, overlap=overlap)
        else:
            self.bulk_create_tasks(project=project, n=n, overlap=overlap)
        return project, tokens

    @staticmethod
    def task_data(i: int) -> dict:
        return {
            "prompt": f"Which answer to question {i} is better?",
            "responses": [
                {"id": "a", "text": f"First answer to {i}."},
                {"id": "b", "text": f"Second answer to {i}."},
            ],
        }

    def copy_tasks(self, *, project: Project, n: int, overlap: int) -> None:
        """PostgreSQL COPY: a million rows in seconds, then fresh planner statistics."""
        columns = (
            "project_id, data, external_id, is_gold, predictions, callback_url, priority, "
            "status, overlap, answer_count, lease_count, media, thumbnail, media_meta, "
            "created_at, updated_at"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY annotation_task ({columns}) FROM STDIN") as copy:
                for i in range(n):
                    copy.write_row(
                        (
                            project.pk,
                            json.dumps(self.task_data(i)),
                            "",
                            False,
                            "[]",
                            "",
                            i % 5,
                            "open",
                            overlap,
                            0,
                            0,
                            "",
                            "",
                            "{}",
                            project.created_at,
                            project.created_at,
                        )
                    )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE annotation_task")
            cursor.execute("ANALYZE annotation_assignment")

    def bulk_create_tasks(self, *, project: Project, n: int, overlap: int) -> None:
        batch = 5000
        with transaction.atomic():
            for start in range(0, n, batch):
                Task.objects.bulk_create(
                    Task(
                        project=project,
                        data=self.task_data(i),
                        priority=i % 5,
                        overlap=overlap,
                    )
                    for i in range(start, min(n, start + batch))
                )

    def delete_project(self, project: Project) -> None:
        """Raw deletes, children first: Django's collector would load a million rows.

        ``raw_delete_cascade`` follows every cascading relation, so the quality app's rows (made
        on submit) go first without annotation importing quality.
        """
        with transaction.atomic():
            for queryset in (
                Annotation.objects.filter(task__project=project),
                Assignment.objects.filter(project=project),
                ProjectContributor.objects.filter(project=project),
                Task.objects.filter(project=project),
            ):
                raw_delete_cascade(queryset)
            project.delete()
        if connection.vendor == "postgresql":
            # Clear the dead rows and refresh the statistics, so that the next run starts from
            # tables like this one did, also where autovacuum is off (as on our CI machines).
            tables = ", ".join(model._meta.db_table for model in (Task, Assignment, Annotation))
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {tables}")

    # The server --------------------------------------------------------------------------

    @contextmanager
    def server(self, options):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "labelhub.settings"),
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "ERROR",
            # The bench's clients write as fast as they can: the per-token rate limit would
            # measure itself, not the queue.
            "API_WRITE_RATE": "off",
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "labelhub.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options["workers"]),
            "--worker-class",
            "gthread",
            "--threads",
            str(options["threads"]),
            "--keep-alive",
            "30",
            "--max-requests",
            "200000",
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ]
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env)  # noqa: S603
        # Stops by itself: the bench ends it, and a timer ends it if the bench never does.
        deadline = threading.Timer(options["max_seconds"], process.terminate)
        deadline.daemon = True
        deadline.start()
        try:
            self.wait_until_listening(port, process)
            yield port
        finally:
            deadline.cancel()
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    @staticmethod
    def wait_until_listening(port: int, process: subprocess.Popen) -> None:
        for _ in range(300):
            if process.poll() is not None:
                raise CommandError("gunicorn exited before it was ready")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise CommandError("gunicorn did not start listening")

    # Measurements ----------------------------------------------------------------------------

    def measure_single(self, figures: QueueFigures, port, project, token, samples) -> None:
        client = Client(port, token)
        for _ in range(30):  # warm-up: connections, imports, caches in every worker
            client.cycle(project.pk)
        nexts, submits = [], []
        for _ in range(samples):
            timing = client.cycle(project.pk)
            if timing is None:
                break
            nexts.append(timing[0])
            submits.append(timing[1])
        figures.next_ms, figures.submit_ms = summary(nexts), summary(submits)

    def measure_throughput(self, port, project, tokens, seconds) -> dict:
        barrier = threading.Barrier(len(tokens) + 1)
        stop = threading.Event()
        results: list[tuple[int, list[float], list[str]]] = []
        lock = threading.Lock()

        def run(token: str) -> None:
            client, cycles, nexts, errors = Client(port, token), 0, [], []
            try:
                client.cycle(project.pk)  # connect and warm up before the clock starts
            except Exception as error:
                errors.append(repr(error))
            barrier.wait()
            while not stop.is_set():
                try:
                    timing = client.cycle(project.pk)
                except Exception as error:
                    errors.append(repr(error))
                    break
                if timing is None:
                    break
                cycles += 1
                nexts.append(timing[0])
            with lock:
                results.append((cycles, nexts, errors))

        threads = [threading.Thread(target=run, args=(token,)) for token in tokens]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cycles = sum(r[0] for r in results)
        errors = [e for r in results for e in r[2]]
        return {
            "clients": len(tokens),
            "cycles": cycles,
            "cycles_per_s": round(cycles / elapsed, 1),
            "next_ms_under_load": summary([ms for r in results for ms in r[1]]),
            "errors": len(errors),
            "first_error": errors[0] if errors else None,
        }

    def report(self, figures: QueueFigures, options) -> None:
        engine = connection.vendor
        rows = [
            ("database", engine),
            ("tasks", f"{figures.tasks:,}"),
            ("build (s)", figures.build_seconds),
            ("next p50/p95/p99 (ms)", self.triple(figures.next_ms)),
            ("submit p50/p95/p99 (ms)", self.triple(figures.submit_ms)),
        ]
        for clients, run in figures.throughput.items():
            rows.append((f"cycles/s, {clients} clients", run["cycles_per_s"]))
            rows.append(
                (f"  next p95 under load (ms), {clients}", run["next_ms_under_load"]["p95"])
            )
            if run["errors"]:
                rows.append((f"  errors, {clients} clients", run["errors"]))
        width = max(len(label) for label, _ in rows)
        self.stdout.write("")
        for label, value in rows:
            self.stdout.write(f"{label.ljust(width)}  {value}")
        self.stdout.write(
            json.dumps(
                {
                    "bench": "queue",
                    "database": engine,
                    "tasks": figures.tasks,
                    "overlap": options["overlap"],
                    "gunicorn": {"workers": options["workers"], "threads": options["threads"]},
                    "cpus": os.cpu_count(),
                    "build_seconds": figures.build_seconds,
                    "next_ms": figures.next_ms,
                    "submit_ms": figures.submit_ms,
                    "throughput": figures.throughput,
                }
            )
        )

    @staticmethod
    def triple(values: dict) -> str:
        return f"{values['p50']} / {values['p95']} / {values['p99']}"


def raw_delete_cascade(queryset: QuerySet) -> None:
    """Delete ``queryset`` with plain DELETEs, first whatever cascades from it in any app.

    Follows the models' own ``on_delete=CASCADE`` relations, so rows that other apps (quality,
    webhooks) hang on tasks go too, without annotation having to know those apps.
    """
    for relation in queryset.model._meta.related_objects:
        if relation.on_delete is not models.CASCADE:
            continue
        children = relation.related_model._base_manager.filter(
            **{f"{relation.field.name}__in": queryset.values("pk")}
        )
        raw_delete_cascade(children)
    queryset._raw_delete(queryset.db)
