"""Figures for the client on a big project: listing a million task ids, importing 100,000 tasks.

Run from a LabelHub checkout, against a scratch PostgreSQL database of your own (it is migrated
and filled; nothing else is touched)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lh_bench .venv/bin/python client/bench.py \
        --tasks 1000000 --import 100000

The bench's own process writes the rows with the test settings (for their factories); the server and
the worker run with the production settings (``config.settings``). It writes the tasks with one
``INSERT … SELECT generate_series``, starts gunicorn on a loopback port and a ``manage.py
db_worker`` beside it (the database task backend, as production runs: a batch bigger than the sync
limit is written by the worker, not in the request), and then, through the client only: lists every
task id (cursor pages of 1,000, timing each page, so the first and the last can be compared), times
one page-number page at the start and at the end for contrast, and imports ``--import`` tasks from a
generator in batches, waiting for the worker to write them. It prints the machine's load average
before and after, since the figures depend on it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WSGI_APPLICATION = "config.wsgi:application"
TASKS_BACKEND = "django_tasks_db.DatabaseBackend"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit status {process.returncode})")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ["TEST_TASKS_BACKEND"] = TASKS_BACKEND
    import django

    django.setup()


def build(n: int) -> tuple[int, int, str]:
    """A manager with a token, a project with ``n`` tasks, and an empty project to import into."""
    from django.core.management import call_command
    from django.db import connection

    from annotation.models import Task
    from labelhub.accounts import api_token_issue
    from labelhub.models import Organization, OrganizationMember, Project, ProjectMember, Role
    from tests.factories import make_user

    if connection.vendor != "postgresql":
        raise SystemExit("The bench needs PostgreSQL: set DATABASE_URL to a scratch database.")
    call_command("migrate", verbosity=0)
    stamp = int(time.time())
    organization = Organization.objects.create(name=f"Bench {stamp}", slug=f"bench-{stamp}")
    user = make_user(f"bench-{stamp}")
    OrganizationMember.objects.create(organization=organization, user=user, is_admin=True)
    schema = {"media": "image", "normalisation": [], "segments": False}
    listed, target = (
        Project.objects.create(
            organization=organization, name=f"{name} {stamp}", kind="transcription", schema=schema
        )
        for name in ("Listing", "Import")
    )
    for project in (listed, target):
        ProjectMember.objects.create(project=project, user=user, role=Role.MANAGER)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Task._meta.db_table} (project_id, data, external_id, is_gold,
                predictions, callback_url, priority, queue_rank, content_flags, status, overlap,
                answer_count, lease_count, media, thumbnail, media_meta, created_at, updated_at)
            SELECT %s, jsonb_build_object('image', 'https://img.example.com/' || i || '.png'),
                'bench-' || i, false, '[]'::jsonb, '', 0, 0, 0, 'open', 1, 0, 0, '', '',
                '{{}}'::jsonb, now(), now()
            FROM generate_series(1, %s) AS i""",  # noqa: S608 - the table name from _meta
            [listed.pk, n],
        )
        cursor.execute(f"ANALYZE {Task._meta.db_table}")
    print(f"built {n:,} tasks in {time.perf_counter() - started:.1f} s")
    return listed.pk, target.pk, api_token_issue(user=user).key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--import", dest="to_import", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    setup_django()
    listed_id, target_id, token = build(args.tasks)

    from labelhub_client import Client

    port = free_port()
    media = tempfile.mkdtemp(prefix="labelhub-bench-media-")
    # The production settings, with what they need on loopback: the server and the worker share
    # the media folder (an import's upload is written by one and read by the other).
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "MEDIA_ROOT": media,
        "TASKS_BACKEND": TASKS_BACKEND,
        "PYTHONPATH": str(ROOT),
        "API_WRITE_RATE": "off",
    }
    print(f"load average before: {load()}")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "-v", "0"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            WSGI_APPLICATION,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--timeout",
            "600",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_for(port, server)
        client = Client(f"http://127.0.0.1:{port}", token, timeout=600)
        project = client.project(listed_id)
        path = f"{project.path}tasks/"

        client.http.get(path, params={"cursor": "", "page_size": 1})  # warm the workers up
        client.http.get(path, params={"cursor": "", "page_size": 1})
        # Every id, page by page, timing each request.
        params: dict = {"cursor": "", "page_size": 1000, "fields": "id"}
        times, count, started = [], 0, time.perf_counter()
        while True:
            tick = time.perf_counter()
            page = client.http.get(path, params=params)
            times.append(time.perf_counter() - tick)
            count += len(page["results"])
            if not page["cursor"]:
                break
            params["cursor"] = page["cursor"]
        total = time.perf_counter() - started
        ms = [t * 1000 for t in times]
        print(
            f"listed {count:,} task ids in {total:.1f} s ({len(times)} cursor pages of 1,000): "
            f"page 1 {ms[0]:.0f} ms, last page {ms[-1]:.0f} ms; median of the first ten pages "
            f"{statistics.median(ms[:10]):.0f} ms, of the last ten "
            f"{statistics.median(ms[-10:]):.0f} ms, of all {statistics.median(ms):.0f} ms"
        )
        started = time.perf_counter()
        again = sum(1 for _ in project.task_ids())
        took = time.perf_counter() - started
        print(f"the same ({again:,} ids) through project.task_ids(): {took:.1f} s")
        for number in (1, (count + 999) // 1000):
            tick = time.perf_counter()
            client.http.get(path, params={"page": number, "page_size": 1000, "fields": "id"})
            print(
                f"for contrast, page-number page {number:,} (OFFSET and COUNT): "
                f"{(time.perf_counter() - tick) * 1000:.0f} ms"
            )

        rows = (
            {"data": {"image": f"https://img.example.com/i{i}.png"}, "external_id": f"imp-{i}"}
            for i in range(args.to_import)
        )
        started = time.perf_counter()
        job = client.project(target_id).import_tasks(
            rows, batch_size=args.batch_size, progress=False, wait=True
        )
        took = time.perf_counter() - started
        print(
            f"imported {job.created:,} tasks in {took:.1f} s "
            f"({job.created / took:,.0f} tasks/s, batches of {args.batch_size:,}: "
            f"{len(job.ids)} written by the worker, "
            f"{len(job.batches) - len(job.ids)} in the request)"
        )
        print(f"load average after: {load()}")
    finally:
        for process in (server, worker):
            os.killpg(process.pid, 15)
            process.wait(timeout=30)
        shutil.rmtree(media, ignore_errors=True)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


if __name__ == "__main__":
    main()
