"""Measure the quality step alone: ``manage.py bench_judging [--answers 10000] [--workers 1]``.

It builds a preference-ranking project whose ``--answers`` submitted answers all wait to be
judged (SQL ``INSERT … SELECT`` on PostgreSQL: the queue is not what is measured here), queues
the project's run, then starts ``--workers`` ``manage.py db_worker --batch`` processes and times
them until the backlog is gone. It prints answers judged per second, and per answer the wall
time, the workers' CPU and PostgreSQL's CPU, then checks that every answer was counted once and
every task got one outcome, and deletes the project (unless ``--keep``).
"""

import json
import os
import resource
import subprocess
import sys
import time

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Sum

import kinds
from annotation.models import (
    Annotation,
    Assignment,
    ContributorStatus,
    DeliveryStatus,
    ProjectContributor,
    Task,
    TaskStatus,
    WebhookDelivery,
)
from bench.management.commands.bench import Command as QueueBench
from bench.management.commands.bench import Receiver
from labelhub.measure import cpu_seconds_named
from labelhub.models import Organization, OrganizationMember, Project, ProjectMember, Role
from quality.models import ContributorStanding, TaskOutcome
from quality.tasks import request_judging

BENCH_ORG = "labelhub-bench"


class Command(BaseCommand):
    help = "Benchmark the quality step: a backlog of submitted answers, db_worker processes."

    def add_arguments(self, parser):
        parser.add_argument("--answers", type=int, default=10_000)
        parser.add_argument("--overlap", type=int, default=1, help="answers per task")
        parser.add_argument("--contributors", type=int, default=8)
        parser.add_argument("--workers", type=int, default=1, help="db_worker processes")
        parser.add_argument("--review-share", type=float, default=0.1)
        parser.add_argument("--keep", action="store_true", help="keep the bench project")
        parser.add_argument(
            "--paid",
            action="store_true",
            help="give the project a rate per task, so that each batch also writes the ledger",
        )
        parser.add_argument(
            "--callbacks",
            action="store_true",
            help="give every task a callback URL to a receiver on loopback (webhooks measured too)",
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_judging builds its backlog with PostgreSQL's SQL.")
        if "django_tasks_db" not in settings.TASKS["default"]["BACKEND"]:
            raise CommandError("The workers need the database task backend (TASKS_BACKEND).")
        started = time.perf_counter()
        with Receiver() as receiver:
            project = self.build(options, callback_url=receiver.url if options["callbacks"] else "")
            self.stdout.write(
                f"built {options['answers']:,} waiting answers in "
                f"{time.perf_counter() - started:.1f} s"
            )
            try:
                figures = self.measure(project, options)
                self.verify(project, options)
            finally:
                if not options["keep"]:
                    self.delete(project)
        self.report(figures, options)

    def build(self, options, *, callback_url: str) -> Project:
        overlap, n = options["overlap"], options["answers"]
        organization, _ = Organization.objects.get_or_create(
            slug=BENCH_ORG, defaults={"name": "LabelHub bench"}
        )
        project = Project.objects.create(
            organization=organization,
            name=f"judging bench {n} answers {time.time_ns()}",
            kind="ranking",
            schema=kinds.get("ranking").default_schema(),
            quality={"overlap": overlap, "review_share": options["review_share"]},
        )
        if options["paid"]:
            # By name: quality sits under the pay app and does not import it.
            apps.get_model("pay", "ProjectPay").objects.create(
                project=project, accepted_rate="0.25", rejected_rate="0.05"
            )
        people = []
        for i in range(max(options["contributors"], overlap)):
            user, _ = get_user_model().objects.get_or_create(username=f"bench-contributor-{i}")
            OrganizationMember.objects.get_or_create(organization=organization, user=user)
            ProjectMember.objects.create(project=project, user=user, role=Role.CONTRIBUTOR)
            ProjectContributor.objects.create(
                project=project, user=user, status=ContributorStatus.ACTIVE
            )
            people.append(user.pk)
        tables = {
            "task": Task._meta.db_table,
            "assignment": Assignment._meta.db_table,
            "annotation": Annotation._meta.db_table,
        }
        tasks = -(-n // overlap)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {tables["task"]} (project_id, data, external_id, is_gold,
                    predictions, callback_url, priority, status, overlap, answer_count,
                    lease_count, media, thumbnail, media_meta, created_at, updated_at)
                SELECT %s, jsonb_build_object('prompt', 'Question ' || i, 'responses',
                    jsonb_build_array(jsonb_build_object('id', 'a', 'text', 'First ' || i),
                                      jsonb_build_object('id', 'b', 'text', 'Second ' || i))),
                    '', false, '[]'::jsonb, %s, 0, 'annotated', %s, %s, 0, '', '', '{{}}'::jsonb,
                    now(), now()
                FROM generate_series(1, %s) AS i""",  # noqa: S608 - table names from _meta
                [project.pk, callback_url, overlap, overlap, tasks],
            )
            # Answer k of a task comes from contributor (task + k) mod people: every task has
            # ``overlap`` different people, and they disagree now and then.
            cursor.execute(
                f"""INSERT INTO {tables["assignment"]} (task_id, contributor_id, project_id,
                    status, lease_expires_at, version, active_seconds, skip_reason, created_at,
                    updated_at, finished_at)
                SELECT t.id, (%s::int[])[1 + (t.id + k) %% %s], t.project_id, 'submitted', now(),
                    1, 20 + t.id %% 40, '', now(), now(), now()
                FROM {tables["task"]} t, generate_series(0, %s - 1) AS k
                WHERE t.project_id = %s
                ORDER BY t.id, k LIMIT %s""",  # noqa: S608
                [people, len(people), overlap, project.pk, n],
            )
            cursor.execute(
                f"""INSERT INTO {tables["annotation"]} (task_id, contributor_id, assignment_id,
                    result, active_seconds, created_at)
                SELECT a.task_id, a.contributor_id, a.id,
                    jsonb_build_object('preference',
                        CASE WHEN (a.task_id * 7 + a.contributor_id) %% 5 = 0 THEN 'b' ELSE 'a' END,
                        'strength', 1),
                    a.active_seconds, now()
                FROM {tables["assignment"]} a WHERE a.project_id = %s
                ORDER BY a.id""",  # noqa: S608
                [project.pk],
            )
        with connection.cursor() as cursor:
            for table in tables.values():
                cursor.execute(f"ANALYZE {table}")
        return project

    def measure(self, project, options) -> dict:
        n = options["answers"]
        request_judging(project.pk, gather=False)  # the backlog is there
        env = {**os.environ, "LOG_LEVEL": "ERROR", "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true"}
        command = [
            sys.executable,
            "manage.py",
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            "--verbosity",
            "0",
        ]
        cpu_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        postgres_before = cpu_seconds_named("postgres")
        started = time.perf_counter()
        workers = [
            subprocess.Popen(command, cwd=settings.BASE_DIR, env=env)  # noqa: S603
            for _ in range(options["workers"])
        ]
        for worker in workers:
            if worker.wait(timeout=3600) != 0:
                raise CommandError(f"db_worker exited with {worker.returncode}")
        elapsed = time.perf_counter() - started
        postgres_after = cpu_seconds_named("postgres")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker_cpu = (after.ru_utime + after.ru_stime) - (
            cpu_children.ru_utime + cpu_children.ru_stime
        )
        postgres_cpu = (
            postgres_after - postgres_before
            if postgres_after is not None and postgres_before is not None
            else None
        )
        return {
            "answers": n,
            "seconds": round(elapsed, 2),
            "answers_per_s": round(n / elapsed, 1),
            "wall_ms_per_answer": round(elapsed * 1000 / n, 3),
            "worker_cpu_ms_per_answer": round(worker_cpu * 1000 / n, 3),
            "answers_per_s_per_worker_core": round(n / worker_cpu, 1) if worker_cpu else None,
            "postgres_cpu_ms_per_answer": (
                round(postgres_cpu * 1000 / n, 3) if postgres_cpu is not None else None
            ),
        }

    def verify(self, project, options) -> None:
        waiting = Annotation.objects.filter(task__project=project, judged_at=None).count()
        counted = ContributorStanding.objects.filter(contributor__project=project).aggregate(
            n=Sum("submitted_count")
        )["n"]
        tasks = Task.objects.filter(project=project).count()
        outcomes = TaskOutcome.objects.filter(project=project).count()
        complete = options["answers"] // options["overlap"]
        if waiting or counted != options["answers"] or not complete <= outcomes <= tasks:
            raise CommandError(
                f"the step was not exact: {waiting} waiting, {counted} counted, "
                f"{outcomes} outcomes for {tasks} tasks"
            )
        hooks = WebhookDelivery.objects.filter(project=project)
        accepted = Task.objects.filter(project=project, status=TaskStatus.ACCEPTED).count()
        undelivered = hooks.exclude(status=DeliveryStatus.DELIVERED).count()
        if undelivered or (options["callbacks"] and hooks.count() != accepted):
            raise CommandError(f"webhooks: {undelivered} of {hooks.count()} not delivered")

    def delete(self, project) -> None:
        """As the queue bench deletes its project: raw deletes, children first, then VACUUM."""
        QueueBench().delete_project(project)

    def report(self, figures: dict, options) -> None:
        rows = [
            ("answers judged", f"{figures['answers']:,}"),
            ("db_worker processes", options["workers"]),
            ("seconds", figures["seconds"]),
            ("answers/s", figures["answers_per_s"]),
            ("wall ms per answer", figures["wall_ms_per_answer"]),
            ("worker CPU ms per answer", figures["worker_cpu_ms_per_answer"]),
            ("answers/s per worker core", figures["answers_per_s_per_worker_core"]),
            ("PostgreSQL CPU ms per answer", figures["postgres_cpu_ms_per_answer"]),
        ]
        width = max(len(label) for label, _ in rows)
        self.stdout.write("")
        for label, value in rows:
            self.stdout.write(f"{label.ljust(width)}  {value}")
        self.stdout.write(
            json.dumps(
                {
                    "bench": "judging",
                    "overlap": options["overlap"],
                    "workers": options["workers"],
                    "cpus": os.cpu_count(),
                    **figures,
                }
            )
        )
