"""Measure LabelHub over real HTTP: ``python manage.py bench [queue] [options]``.

Sections are subcommands: ``queue`` (the default) and ``matrix``, which runs the queue's
single-client and 8-client measurements at several sizes (``--sizes``, default 10k, 100k, 1M), in
every queue order (``--orders``), each plain and then with a content mix (``--mix 0.3,0.5``: 30%
of tasks marked, half the crowd opted out), against one gunicorn, and prints one table.
``queue``:

1. builds a project of ``--tasks`` preference-ranking tasks (default 1,000,000 on PostgreSQL,
   10,000 on SQLite) with PostgreSQL's COPY, or ``bulk_create`` in big batches on SQLite,
   and 33 contributors with API tokens;
2. starts gunicorn on 127.0.0.1 only (a free port, bounded by ``--max-seconds``: it is stopped
   when the bench ends, fails, or runs out of time);
3. from one client, times ``POST /projects/{id}/next/`` and ``POST /assignments/{id}/submit/``
   (p50/p95/p99 over ``--samples`` cycles, after a warm-up);
4. with 8 and 32 concurrent clients (one contributor each, keep-alive connections), counts
   next+submit cycles per second over ``--seconds`` each;
5. measures the line behind the queue: ``--judge-workers`` ``db_worker`` processes (default 1)
   run the quality step while the clients work, every task has a callback URL to a receiver on
   loopback, and for each run the bench reports submit → judged, submit → accepted and submit →
   webhook delivered (p50/p95, from the rows' own timestamps), the backlog of answers waiting to
   be judged (its peak, what is left when the clients stop, and how long it takes to drain);
6. reads the CPU time of gunicorn, of the workers and of PostgreSQL over each run (Linux
   ``/proc``), and reports cycles per second per web core, judged answers per second per worker
   core, and PostgreSQL CPU per cycle;
7. prints a table and one JSON line, then deletes the project (unless ``--keep``).

With ``--content-share S`` a share S of the tasks carries a content category (violence), and
with ``--opted-out-share O`` a share O of the contributors opted out of it; the single-client
figures are then taken for a contributor without opt-outs and one with, alternating cycle by
cycle, so that the two claims are measured side by side on the same queue.
"""

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

import kinds
from annotation.models import (
    Annotation,
    Assignment,
    DeliveryStatus,
    ProjectContributor,
    Task,
    TaskStatus,
    WebhookDelivery,
)
from labelhub.accounts import api_token_issue
from labelhub.measure import cpu_seconds_named, cpu_seconds_of_tree, summary
from labelhub.models import Organization, OrganizationMember, Project, ProjectMember, Role

BENCH_ORG = "labelhub-bench"
RESULT = {"preference": "a", "strength": 2}


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
    opted_out_next_ms: dict = field(default_factory=dict)
    opted_out_submit_ms: dict = field(default_factory=dict)


class Command(BaseCommand):
    help = "Benchmark LabelHub over real HTTP (gunicorn on 127.0.0.1). Sections: queue."

    def add_arguments(self, parser):
        sections = parser.add_subparsers(dest="section")
        queue = sections.add_parser("queue", help="next-task and submit latency, throughput")
        matrix = sections.add_parser(
            "matrix", help="the queue at several sizes, in every order, with and without opt-outs"
        )
        for target in (parser, queue, matrix):
            self.add_queue_arguments(target)
        matrix.add_argument(
            "--sizes", default="10000,100000,1000000", help="comma-separated numbers of tasks"
        )
        matrix.add_argument(
            "--orders", default="priority,low_score,random", help="comma-separated queue orders"
        )
        matrix.add_argument(
            "--mix",
            default="0.3,0.5",
            help="content share, opted-out share of the second row of each (none: 0,0)",
        )

    def add_queue_arguments(self, parser):
        parser.add_argument("--tasks", type=int, default=None, help="tasks in the project")
        parser.add_argument("--overlap", type=int, default=1, help="answers wanted per task")
        parser.add_argument(
            "--order",
            choices=["priority", "low_score", "random"],
            default="priority",
            help="the project's queue order (low_score: every task has a model's score)",
        )
        parser.add_argument("--samples", type=int, default=500, help="single-client cycles")
        parser.add_argument("--seconds", type=float, default=10.0, help="per throughput run")
        parser.add_argument(
            "--concurrency", default="8,32", help="comma-separated numbers of clients"
        )
        parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
        parser.add_argument("--threads", type=int, default=4, help="gunicorn threads/worker")
        parser.add_argument("--max-seconds", type=int, default=900, help="hard stop for the run")
        parser.add_argument("--keep", action="store_true", help="keep the bench project")
        parser.add_argument(
            "--judge-workers",
            type=int,
            default=1,
            help="db_worker processes running the quality step during the run (0: none)",
        )
        parser.add_argument(
            "--worker-nice",
            type=int,
            default=10,
            help="CPU niceness of the db_worker processes, as docs/labelhub-worker.service runs "
            "them (0: level with the web server)",
        )
        parser.add_argument(
            "--content-share",
            type=float,
            default=0.0,
            help="share of tasks that carry a content category (violence)",
        )
        parser.add_argument(
            "--opted-out-share",
            type=float,
            default=0.0,
            help="share of contributors who opted out of it (one more client is timed alone)",
        )
        parser.add_argument(
            "--drain-seconds",
            type=float,
            default=60.0,
            help="how long to wait for the backlog to drain after each run",
        )

    def handle(self, *args, **options):
        section = options.get("section") or "queue"
        if section == "queue":
            self.bench_queue(options)
        elif section == "matrix":
            self.bench_matrix(options)

    # The matrix section ----------------------------------------------------------------------

    def bench_matrix(self, options) -> None:
        """One gunicorn and its judging workers; for each size and order a fresh project, timed
        from one client (plain, then with the content mix: the opted-out client alternating with
        one without opt-outs), and 8 clients' cycles per second in both states. One table and
        one JSON line per row."""
        sizes = [int(n) for n in options["sizes"].split(",") if n.strip()]
        orders = [o.strip() for o in options["orders"].split(",") if o.strip()]
        content_share, opted_out_share = (float(x) for x in options["mix"].split(","))
        concurrency = [int(c) for c in options["concurrency"].split(",") if c.strip()]
        people = max([1, *concurrency]) + 2
        rows = []
        header = (
            f"{'tasks':>9}  {'order':<9}  {'mix':<5}  {'next p50/p95/p99 (ms)':<22}  "
            f"{'submit p50/p95/p99':<22}  {'opted out: next p50/p95/p99':<28}  "
            + "  ".join(f"cycles/s {c}" for c in concurrency)
        )
        with (
            Receiver() as receiver,
            self.server(options) as port,
            self.workers(options) as workers,
        ):
            for n in sizes:
                for order in orders:
                    project, tokens = self.build_project(
                        n=n,
                        overlap=options["overlap"],
                        people=people,
                        callback_url=receiver.url,
                        order=order,
                    )
                    try:
                        for mixed in (False, True) if opted_out_share > 0 else (False,):
                            if mixed:
                                self.mark_content(
                                    project=project,
                                    organization=project.organization,
                                    people=people,
                                    content_share=content_share,
                                    opted_out_share=opted_out_share,
                                )
                            row = self.matrix_row(
                                project, port, tokens, workers, concurrency, options, mixed
                            )
                            row.update(
                                order=order,
                                content_share=content_share if mixed else 0,
                                opted_out_share=opted_out_share if mixed else 0,
                            )
                            rows.append(row)
                            self.stdout.write(json.dumps({"bench": "matrix", **row}))
                    finally:
                        if not options["keep"]:
                            self.delete_project(project)
        self.stdout.write("")
        self.stdout.write(header)
        for row in rows:
            mix = "mix" if row["opted_out_share"] else "-"
            out = self.triple(row["opted_out_next_ms"]) if row["opted_out_next_ms"] else "-"
            self.stdout.write(
                f"{row['tasks']:>9,}  {row['order']:<9}  {mix:<5}  "
                f"{self.triple(row['next_ms']):<22}  {self.triple(row['submit_ms']):<22}  "
                f"{out:<28}  "
                + "  ".join(f"{row['cycles_per_s'][str(c)]:>11}" for c in concurrency)
            )

    def matrix_row(self, project, port, tokens, workers, concurrency, options, mixed) -> dict:
        figures = QueueFigures(tasks=project.tasks.count(), build_seconds=0)
        opted_out = tokens[-1] if mixed else None
        self.measure_single(figures, port, project, tokens[0], options["samples"], opted_out)
        self.drain(project, options["drain_seconds"])
        rates = {}
        for c in concurrency:
            run = self.measure_throughput(
                port, project, tokens[1 : c + 1], options["seconds"], workers
            )
            rates[str(c)] = run["cycles_per_s"]
            self.drain(project, options["drain_seconds"])
        return {
            "tasks": figures.tasks,
            "next_ms": figures.next_ms,
            "submit_ms": figures.submit_ms,
            "opted_out_next_ms": figures.opted_out_next_ms,
            "cycles_per_s": rates,
        }

    # The queue section ---------------------------------------------------------------------

    def bench_queue(self, options) -> None:
        postgres = connection.vendor == "postgresql"
        n = options["tasks"] or (1_000_000 if postgres else 10_000)
        concurrency = [int(c) for c in options["concurrency"].split(",") if c.strip()]
        clients_needed = max([1, *concurrency]) + 2  # the last: the opted-out single client
        kinds.get("ranking")  # the bench answers preference-ranking tasks

        started = time.perf_counter()
        with Receiver() as receiver:
            project, tokens = self.build_project(
                n=n,
                overlap=options["overlap"],
                people=clients_needed,
                callback_url=receiver.url,
                order=options["order"],
                content_share=options["content_share"],
                opted_out_share=options["opted_out_share"],
            )
            figures = QueueFigures(tasks=n, build_seconds=round(time.perf_counter() - started, 1))
            self.stdout.write(f"built {n:,} tasks in {figures.build_seconds} s")
            try:
                with self.server(options) as port, self.workers(options) as workers:
                    opted_out = tokens[-1] if options["opted_out_share"] > 0 else None
                    self.measure_single(
                        figures, port, project, tokens[0], options["samples"], opted_out
                    )
                    self.drain(project, options["drain_seconds"])
                    for c in concurrency:
                        run = self.measure_throughput(
                            port, project, tokens[1 : c + 1], options["seconds"], workers
                        )
                        if workers:
                            run["pipeline"] = self.measure_pipeline(project, workers, run, options)
                        run.pop("window", None)
                        run.pop("worker_cpu_before", None)
                        figures.throughput[str(c)] = run
            finally:
                if not options["keep"]:
                    self.delete_project(project)
        self.report(figures, options)

    def build_project(
        self,
        *,
        n: int,
        overlap: int,
        people: int,
        callback_url: str = "",
        order: str = "priority",
        content_share: float = 0.0,
        opted_out_share: float = 0.0,
    ):
        organization, _ = Organization.objects.get_or_create(
            slug=BENCH_ORG, defaults={"name": "LabelHub bench"}
        )
        kind = kinds.get("ranking")
        project = Project.objects.create(
            organization=organization,
            name=f"bench {n} tasks {time.time_ns()}",
            kind="ranking",
            schema=kind.default_schema(),
            quality={"overlap": overlap, "queue_order": order},
        )
        User = get_user_model()
        tokens = []
        for i in range(people):
            user, _ = User.objects.get_or_create(username=f"bench-contributor-{i}")
            OrganizationMember.objects.get_or_create(organization=organization, user=user)
            ProjectMember.objects.create(project=project, user=user, role=Role.CONTRIBUTOR)
            tokens.append(api_token_issue(user=user).key)
        if connection.vendor == "postgresql":
            self.copy_tasks(
                project=project, n=n, overlap=overlap, callback_url=callback_url, order=order
            )
        else:
            self.bulk_create_tasks(project=project, n=n, overlap=overlap, callback_url=callback_url)
        self.mark_content(
            project=project,
            organization=organization,
            people=people,
            content_share=content_share,
            opted_out_share=opted_out_share,
        )
        return project, tokens

    @staticmethod
    def mark_content(
        *, project, organization, people: int, content_share: float, opted_out_share: float
    ) -> None:
        """Flag a share of the tasks (spread through the queue) with violence, and opt a share
        of the contributors out of it, spread over them; the last one (timed alone) always."""
        members = OrganizationMember.objects.filter(
            organization=organization, user__username__startswith="bench-contributor-"
        )
        members.update(content_opt_outs=0, sensitive_paused_until=None)
        if content_share > 0:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE annotation_task SET content_flags = 1 "
                    "WHERE project_id = %s AND (id %% 1000) < %s",
                    [project.pk, round(content_share * 1000)],
                )
                if connection.vendor == "postgresql":
                    cursor.execute("ANALYZE annotation_task")
            # As the import records it (the queue reads it for opted-out claims).
            Project.objects.filter(pk=project.pk).update(task_content_flags=1)
            project.task_content_flags = 1
        if opted_out_share > 0:
            names = [
                f"bench-contributor-{i}"
                for i in range(1, people - 1)
                if int(i * opted_out_share) != int((i - 1) * opted_out_share)
            ]
            names.append(f"bench-contributor-{people - 1}")
            members.filter(user__username__in=names).update(content_opt_outs=1)

    @staticmethod
    def ranked(i: int, order: str) -> tuple[float | None, float]:
        """(prediction score, queue rank) of task ``i``, as ``tasks_rank`` would set them."""
        draw = random.Random(i).random()  # noqa: S311 - a bench's spread, not a secret
        if order == "low_score":
            return draw, draw
        return None, draw if order == "random" else 0.0

    @staticmethod
    def task_data(i: int) -> dict:
        return {
            "prompt": f"Which answer to question {i} is better?",
            "responses": [
                {"id": "a", "text": f"First answer to {i}."},
                {"id": "b", "text": f"Second answer to {i}."},
            ],
        }

    def copy_tasks(
        self, *, project: Project, n: int, overlap: int, callback_url: str, order: str = "priority"
    ) -> None:
        """PostgreSQL COPY: a million rows in seconds, then fresh planner statistics."""
        columns = (
            "project_id, data, external_id, is_gold, predictions, callback_url, priority, "
            "status, overlap, answer_count, lease_count, media, thumbnail, media_meta, "
            "created_at, updated_at, prediction_score, queue_rank"
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
                            callback_url,
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
                            *self.ranked(i, order),
                        )
                    )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE annotation_task")
            cursor.execute("ANALYZE annotation_assignment")

    def bulk_create_tasks(
        self, *, project: Project, n: int, overlap: int, callback_url: str
    ) -> None:
        batch = 5000
        with transaction.atomic():
            for start in range(0, n, batch):
                Task.objects.bulk_create(
                    Task(
                        project=project,
                        data=self.task_data(i),
                        priority=i % 5,
                        overlap=overlap,
                        callback_url=callback_url,
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
                WebhookDelivery.objects.filter(project=project),
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
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "ERROR",
            # The bench's clients write as fast as they can: the per-token rate limit would
            # measure itself, not the queue.
            "API_WRITE_RATE": "off",
            # The tasks' callback URLs point at the bench's own receiver on loopback.
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
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
            self.gunicorn_pid = process.pid
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

    @contextmanager
    def workers(self, options):
        """``--judge-workers`` ``db_worker`` processes, polling every 0.1 s, stopped at the end,
        at the CPU priority the deployment guide gives them (``--worker-nice``)."""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
            "LOG_LEVEL": "ERROR",
        }
        command = [
            sys.executable,
            "manage.py",
            "db_worker",
            "--interval",
            "0.1",
            "--no-startup-delay",
            "--no-reload",
            "--verbosity",
            "0",
        ]
        processes = [
            subprocess.Popen(  # noqa: S603
                command,
                cwd=settings.BASE_DIR,
                env=env,
                preexec_fn=partial(os.nice, options["worker_nice"]),
            )
            for _ in range(options["judge_workers"])
        ]
        deadline = threading.Timer(
            options["max_seconds"], lambda: [p.terminate() for p in processes]
        )
        deadline.daemon = True
        deadline.start()
        try:
            yield processes
        finally:
            deadline.cancel()
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
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

    def measure_single(
        self, figures: QueueFigures, port, project, token, samples, opted_out_token=None
    ) -> None:
        client = Client(port, token)
        other = Client(port, opted_out_token) if opted_out_token else None
        for _ in range(30):  # warm-up: connections, imports, caches in every worker
            client.cycle(project.pk)
            if other:
                other.cycle(project.pk)
        nexts, submits, other_nexts, other_submits = [], [], [], []
        for _ in range(samples):
            timing = client.cycle(project.pk)
            if timing is None:
                break
            nexts.append(timing[0])
            submits.append(timing[1])
            if other and (timing := other.cycle(project.pk)):
                other_nexts.append(timing[0])
                other_submits.append(timing[1])
        figures.next_ms, figures.submit_ms = summary(nexts), summary(submits)
        if other:
            figures.opted_out_next_ms = summary(other_nexts)
            figures.opted_out_submit_ms = summary(other_submits)

    @staticmethod
    def backlog(project) -> int:
        return Annotation.objects.filter(judged_at__isnull=True, task__project=project).count()

    def drain(self, project, seconds: float) -> float | None:
        """Seconds until no answer waits to be judged and no webhook is pending (None: not in
        ``seconds``)."""
        started = time.perf_counter()
        pending_hooks = WebhookDelivery.objects.filter(
            project=project, status=DeliveryStatus.PENDING
        )
        while time.perf_counter() - started < seconds:
            if self.backlog(project) == 0 and not pending_hooks.exists():
                return round(time.perf_counter() - started, 2)
            time.sleep(0.1)
        return None

    def cpu_now(self, workers) -> dict:
        return {
            "web": cpu_seconds_of_tree(getattr(self, "gunicorn_pid", 0)),
            "workers": sum(cpu_seconds_of_tree(p.pid) or 0.0 for p in workers or []),
            "postgres": cpu_seconds_named("postgres")
            if connection.vendor == "postgresql"
            else None,
        }

    def measure_throughput(self, port, project, tokens, seconds, workers=None) -> dict:
        barrier = threading.Barrier(len(tokens) + 1)
        stop = threading.Event()
        peak = [0]

        def watch_backlog() -> None:
            try:
                while not stop.wait(0.5):
                    peak[0] = max(peak[0], self.backlog(project))
            finally:
                connection.close()

        results: list[tuple[int, list[float], list[str]]] = []
        lock = threading.Lock()

        def run(token: str) -> None:
            client, cycles, nexts, errors = Client(port, token), 0, [], []
            try:
                client.cycle(project.pk)  # connect and warm up before the clock starts
            except Exception as error:
                errors.append(repr(error))
            barrier.wait()  # everyone warmed up: the clock and the CPU counters start
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
        watcher = threading.Thread(target=watch_backlog)
        barrier.wait()
        cpu_before, since = self.cpu_now(workers), timezone.now()
        barrier.wait()
        watcher.start()
        started = time.perf_counter()
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu_after, until = self.cpu_now(workers), timezone.now()
        watcher.join()
        left = self.backlog(project)
        cycles = sum(r[0] for r in results)
        errors = [e for r in results for e in r[2]]
        cpu = {
            key: (
                round(cpu_after[key] - cpu_before[key], 2)
                if cpu_after[key] is not None and cpu_before[key] is not None
                else None
            )
            for key in cpu_after
        }
        return {
            "clients": len(tokens),
            "cycles": cycles,
            "cycles_per_s": round(cycles / elapsed, 1),
            "next_ms_under_load": summary([ms for r in results for ms in r[1]]),
            "errors": len(errors),
            "first_error": errors[0] if errors else None,
            "cpu_seconds": cpu,
            "cycles_per_s_per_web_core": round(cycles / cpu["web"], 1) if cpu["web"] else None,
            "postgres_cpu_ms_per_cycle": (
                round(cpu["postgres"] * 1000 / cycles, 2) if cpu["postgres"] and cycles else None
            ),
            "backlog_peak": max(peak[0], left),
            "backlog_at_stop": left,
            "window": (since, until),
            "worker_cpu_before": cpu_before["workers"],
        }

    def measure_pipeline(self, project, workers, run: dict, options) -> dict:
        """After a run: how long its answers took to be judged, accepted and delivered, how long
        the backlog took to drain, and what the quality step cost per answer (worker CPU over
        the run and the drain, divided by the answers judged)."""
        since, until = run.pop("window")
        worker_cpu_before = run.pop("worker_cpu_before")
        drained = self.drain(project, options["drain_seconds"])
        answers = Annotation.objects.filter(
            task__project=project, created_at__gte=since, created_at__lt=until
        )
        judged = [
            (a.judged_at - a.created_at).total_seconds() * 1000
            for a in answers.exclude(judged_at=None).only("created_at", "judged_at")
        ]
        accepted = [
            (updated - created).total_seconds() * 1000
            for created, updated in answers.filter(task__status=TaskStatus.ACCEPTED).values_list(
                "created_at", "task__updated_at"
            )
        ]
        created_at = dict(answers.values_list("task_id", "created_at"))
        delivered = [
            (delivered_at - created_at[task_id]).total_seconds() * 1000
            for task_id, delivered_at in WebhookDelivery.objects.filter(
                task_id__in=list(created_at), status=DeliveryStatus.DELIVERED
            ).values_list("task_id", "delivered_at")
        ]
        worker_cpu = (self.cpu_now(workers)["workers"] or 0.0) - (worker_cpu_before or 0.0)
        return {
            "judged": len(judged),
            "submit_to_judged_ms": summary(judged),
            "submit_to_accepted_ms": summary(accepted),
            "submit_to_webhook_delivered_ms": summary(delivered),
            "backlog_peak": run["backlog_peak"],
            "backlog_at_stop": run["backlog_at_stop"],
            "drain_seconds": drained,
            "worker_cpu_ms_per_answer": (
                round(worker_cpu * 1000 / len(judged), 2) if judged and worker_cpu else None
            ),
            "answers_per_s_per_worker_core": (
                round(len(judged) / worker_cpu, 1) if judged and worker_cpu else None
            ),
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
        if figures.opted_out_next_ms:
            rows += [
                (
                    "  content share / opted-out share",
                    f"{options['content_share']} / {options['opted_out_share']}",
                ),
                ("next p50/p95/p99, opted out (ms)", self.triple(figures.opted_out_next_ms)),
                ("submit p50/p95/p99, opted out (ms)", self.triple(figures.opted_out_submit_ms)),
            ]
        for clients, run in figures.throughput.items():
            rows.append((f"cycles/s, {clients} clients", run["cycles_per_s"]))
            rows.append(
                (f"  next p95 under load (ms), {clients}", run["next_ms_under_load"]["p95"])
            )
            if run["errors"]:
                rows.append((f"  errors, {clients} clients", run["errors"]))
            rows.append((f"  cycles/s per web core, {clients}", run["cycles_per_s_per_web_core"]))
            rows.append(
                (f"  PostgreSQL CPU per cycle (ms), {clients}", run["postgres_cpu_ms_per_cycle"])
            )
            line = run.get("pipeline")
            if line:
                for label, key in (
                    ("submit → judged", "submit_to_judged_ms"),
                    ("submit → accepted", "submit_to_accepted_ms"),
                    ("submit → webhook delivered", "submit_to_webhook_delivered_ms"),
                ):
                    ms = line[key]
                    rows.append(
                        (f"  {label} p50/p95 (ms), {clients}", f"{ms['p50']} / {ms['p95']}")
                    )
                rows.append(
                    (
                        f"  backlog peak / at stop / drained in (s), {clients}",
                        f"{line['backlog_peak']} / {line['backlog_at_stop']} / "
                        f"{line['drain_seconds']}",
                    )
                )
                rows.append(
                    (
                        f"  quality step CPU per answer (ms) / answers/s per core, {clients}",
                        f"{line['worker_cpu_ms_per_answer']} / "
                        f"{line['answers_per_s_per_worker_core']}",
                    )
                )
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
                    "order": options["order"],
                    "gunicorn": {"workers": options["workers"], "threads": options["threads"]},
                    "judge_workers": options["judge_workers"],
                    "cpus": os.cpu_count(),
                    "build_seconds": figures.build_seconds,
                    "next_ms": figures.next_ms,
                    "submit_ms": figures.submit_ms,
                    "content_share": options["content_share"],
                    "opted_out_share": options["opted_out_share"],
                    "opted_out_next_ms": figures.opted_out_next_ms,
                    "opted_out_submit_ms": figures.opted_out_submit_ms,
                    "throughput": figures.throughput,
                }
            )
        )

    @staticmethod
    def triple(values: dict) -> str:
        return f"{values['p50']} / {values['p95']} / {values['p99']}"


def raw_delete_cascade(queryset: QuerySet) -> None:
    """Delete ``queryset`` with plain DELETEs, first whatever cascades from it in any app.

    Follows the models' own ``on_delete=CASCADE`` relations (and empties ``SET_NULL`` ones), so
    rows that other apps (quality, webhooks, pay) hang on tasks go too, without annotation having
    to know those apps.
    """
    for relation in queryset.model._meta.related_objects:
        if relation.on_delete not in (models.CASCADE, models.SET_NULL):
            continue
        children = relation.related_model._base_manager.filter(
            **{f"{relation.field.name}__in": queryset.values("pk")}
        )
        if relation.on_delete is models.SET_NULL:  # e.g. the pay ledger keeps its entries
            children.update(**{relation.field.name: None})
        else:
            raw_delete_cascade(children)
    queryset._raw_delete(queryset.db)


class Receiver:
    """A webhook receiver on loopback that answers 200 at once (the customer's end of the line),
    in a process of its own (:mod:`bench.receiver`)."""

    def __enter__(self) -> "Receiver":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.receiver"],
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
        port = int(self.process.stdout.readline())
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self.process.stdout.close()
