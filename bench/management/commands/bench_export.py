"""Export throughput and peak memory on a big project (PostgreSQL).

``manage.py bench_export --annotations 1000000`` builds a bounding-box project whose every task has
one accepted annotation (bulk SQL: ``INSERT … SELECT generate_series``, seconds not minutes), then
runs each export in a fresh Python process that writes the stream to /dev/null and reports its
time and peak RSS (``ru_maxrss``), so one format's memory never counts against another's.
``--project`` reuses a project built before; ``--keep`` keeps the one built now.
"""

import json
import resource
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from annotation.models import Annotation, Assignment, Task
from exports.selectors import ExportOptions
from exports.services import export_size, export_stream
from labelhub.models import Organization, Project
from quality.models import TaskOutcome

FORMATS = ("audit", "coco")  # JSONL (the audit trail: every annotation) and COCO JSON
SCHEMA = {
    "labels": [
        {"name": "cat", "colour": "#1f77b4", "hotkey": 1},
        {"name": "dog", "colour": "#ff7f0e", "hotkey": 2},
    ],
    "min_size": 2,
    "allow_empty": True,
}


class Command(BaseCommand):
    help = "Measure export throughput (annotations/s) and peak RSS for JSONL and COCO."

    def add_arguments(self, parser):
        parser.add_argument("--annotations", type=int, default=1_000_000)
        parser.add_argument("--project", type=int, help="measure an existing bench project")
        parser.add_argument("--formats", default=",".join(FORMATS))
        parser.add_argument("--keep", action="store_true", help="keep the project built now")
        parser.add_argument("--measure", help="internal: run one export in this process")

    def handle(self, *args, **options):
        if options["measure"]:
            self.measure(project_id=options["project"], format_name=options["measure"])
            return
        if connection.vendor != "postgresql":
            raise CommandError("The export bench needs PostgreSQL (set DATABASE_URL).")
        project = (
            Project.objects.get(pk=options["project"])
            if options["project"]
            else self.build(n=options["annotations"])
        )
        try:
            for format_name in options["formats"].split(","):
                figures = self.run_child(project=project, format_name=format_name)
                self.stdout.write(
                    f"export {format_name:6} {figures['items']:>9,} annotations in "
                    f"{figures['seconds']:7.2f} s = {figures['per_second']:>9,.0f} annotations/s, "
                    f"{figures['megabytes']:8.1f} MB written, peak RSS {figures['rss_mb']:6.1f} MB"
                )
        finally:
            if not options["project"] and not options["keep"]:
                self.stdout.write("Deleting the bench project…")
                self.delete(project)

    def build(self, *, n: int) -> Project:
        started = time.perf_counter()
        organization, _ = Organization.objects.get_or_create(
            slug="bench-export", defaults={"name": "Export bench"}
        )
        user, _ = get_user_model().objects.get_or_create(username="bench-export-contributor")
        project = Project.objects.create(
            organization=organization,
            name=f"Export bench {n} at {time.time():.0f}",
            kind="bbox",
            schema=SCHEMA,
        )
        tables = {
            "task": Task._meta.db_table,
            "assignment": Assignment._meta.db_table,
            "annotation": Annotation._meta.db_table,
            "outcome": TaskOutcome._meta.db_table,
        }
        box = (
            "jsonb_build_object('boxes', jsonb_build_array(jsonb_build_object("
            "'label', CASE WHEN i %% 2 = 0 THEN 'cat' ELSE 'dog' END, "
            "'x', i %% 500, 'y', i %% 300, 'w', 40 + i %% 100, 'h', 30 + i %% 100)))"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {tables["task"]} (project_id, data, external_id, is_gold,
                    predictions, callback_url, priority, status, overlap, answer_count,
                    lease_count, media, thumbnail, media_meta, created_at, updated_at)
                SELECT %s, jsonb_build_object('image', 'https://example.com/img/' || i || '.jpg',
                    'width', 640, 'height', 480), 'bench-' || i, false, '[]'::jsonb, '', 0,
                    'accepted', 1, 1, 0, '', '', '{{}}'::jsonb, now(), now()
                FROM generate_series(1, %s) AS i""",  # noqa: S608 - table names from _meta
                [project.pk, n],
            )
            cursor.execute(
                f"""INSERT INTO {tables["assignment"]} (task_id, contributor_id, project_id, status,
                    lease_expires_at, version, active_seconds, skip_reason, created_at, updated_at,
                    finished_at)
                SELECT t.id, %s, t.project_id, 'submitted', now(), 1, 5 + t.id %% 60, '', now(),
                    now(), now()
                FROM {tables["task"]} t WHERE t.project_id = %s""",  # noqa: S608
                [user.pk, project.pk],
            )
            cursor.execute(
                f"""INSERT INTO {tables["annotation"]} (task_id, contributor_id, assignment_id,
                    result, active_seconds, created_at, judged_at)
                SELECT a.task_id, a.contributor_id, a.id, {box.replace("i %%", "a.task_id %%")},
                    a.active_seconds, now(), now()
                FROM {tables["assignment"]} a WHERE a.project_id = %s""",  # noqa: S608
                [project.pk],
            )
            cursor.execute(
                f"""INSERT INTO {tables["outcome"]} (task_id, project_id, proposal, is_consensus,
                    answers_used, review_reason, review_priority, review_note, accepted_result,
                    accepted_at, version, computed_at)
                SELECT n.task_id, %s, n.result, false, 1, '', 0, '', n.result, now(), 2, now()
                FROM {tables["annotation"]} n JOIN {tables["task"]} t ON t.id = n.task_id
                WHERE t.project_id = %s""",  # noqa: S608
                [project.pk, project.pk],
            )
        with connection.cursor() as cursor:
            for table in tables.values():
                cursor.execute(f"ANALYZE {table}")
        self.stdout.write(
            f"Built project {project.pk}: {n:,} tasks with one accepted annotation each "
            f"in {time.perf_counter() - started:.1f} s"
        )
        return project

    def delete(self, project: Project) -> None:
        with connection.cursor() as cursor:
            task_ids = f"SELECT id FROM {Task._meta.db_table} WHERE project_id = %s"  # noqa: S608
            for model in (TaskOutcome, Annotation, Assignment, Task):
                where = "task_id IN" if model is Annotation else "project_id ="
                sql = f"DELETE FROM {model._meta.db_table} WHERE {where} "  # noqa: S608
                cursor.execute(sql + ("(" + task_ids + ")" if model is Annotation else "%s"),
                               [project.pk])  # fmt: skip
        project.delete()

    def run_child(self, *, project: Project, format_name: str) -> dict:
        command = [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "bench_export",
            "--project",
            str(project.pk),
            "--measure",
            format_name,
        ]
        output = subprocess.run(  # noqa: S603 - our own manage.py
            command, check=True, capture_output=True, text=True, cwd=settings.BASE_DIR
        ).stdout
        return json.loads(output.strip().splitlines()[-1])

    def measure(self, *, project_id: int, format_name: str) -> None:
        project = Project.objects.get(pk=project_id)
        options = ExportOptions()
        items = export_size(project=project, format_name=format_name, options=options)
        started = time.perf_counter()
        written = 0
        export = export_stream(project=project, format_name=format_name, options=options)
        with open("/dev/null", "wb") as sink:
            for chunk in export.chunks:
                written += len(chunk)
                sink.write(chunk)
        seconds = time.perf_counter() - started
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
        self.stdout.write(
            json.dumps(
                {
                    "format": format_name,
                    "items": items,
                    "seconds": seconds,
                    "per_second": items / seconds if seconds else 0,
                    "megabytes": written / 1e6,
                    "rss_mb": rss_kb / 1024,
                }
            )
        )
