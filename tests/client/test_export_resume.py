"""A big export through the client, with the connection cut in the middle of the download: the
client resumes with an HTTP range and ends with a file byte-identical to the server's.

The 100,000 accepted tasks are written straight to the database (the import path has its own
test and figure); LABELHUB_CLIENT_TEST_EXPORT sets another size."""

import hashlib
import os
import time

import httpx
import pytest
from django.db import connection, transaction
from django.utils import timezone
from labelhub_client import Client, NotFound

from annotation.models import Task
from quality.models import TaskOutcome
from tests.client.conftest import QUALITY, SCHEMA

SIZE = int(os.environ.get("LABELHUB_CLIENT_TEST_EXPORT", "100000"))


def accepted_tasks(project_id: int, n: int) -> None:
    """``n`` accepted tasks with their outcomes in two INSERT … SELECT statements (a row
    generator on either database): seconds, where the ORM's bulk_create takes minutes."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    postgres = connection.vendor == "postgresql"
    numbers = (
        "SELECT i FROM generate_series(0, %s - 1) AS i"
        if postgres
        else "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %s - 1) "
        "SELECT i FROM n"
    )
    json = "jsonb_build_object" if postgres else "json_object"
    task, outcome = Task._meta.db_table, TaskOutcome._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {task} (project_id, data, external_id, is_gold, predictions,
                callback_url, priority, queue_rank, content_flags, status, overlap, answer_count,
                lease_count, media, thumbnail, media_meta, created_at, updated_at)
            SELECT %s, {json}('image', 'https://img.example.com/' || i || '.png'),
                'scan-' || i, false, '[]', '', 0, 0, 0, 'accepted', 1, 1, 0, '', '', '{{}}', %s, %s
            FROM ({numbers}) AS numbers""",  # noqa: S608 - table names from _meta
            [project_id, now, now, n],
        )
        cursor.execute(
            f"""INSERT INTO {outcome} (task_id, project_id, proposal, is_consensus, answers_used,
                review_reason, review_priority, review_note, accepted_result, accepted_at,
                version, computed_at)
            SELECT id, project_id, {json}('text', 'line ' || external_id), false, 1, '', 0, '',
                {json}('text', 'line ' || external_id), %s, 1, %s
            FROM {task} WHERE project_id = %s""",  # noqa: S608
            [now, now, project_id],
        )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_a_cut_download_resumes_to_a_byte_identical_file(server, cutting_proxy, tmp_path):
    direct = Client(server.url, server.manager_token)
    project = direct.create_project("Scans", "transcription", schema=SCHEMA, quality=QUALITY)
    t0 = time.monotonic()
    accepted_tasks(project.id, SIZE)
    print(f"\nrows: {time.monotonic() - t0:.1f} s")

    through_proxy = Client(cutting_proxy.url, server.manager_token, backoff=0.05)
    cutting_proxy.cut_download_after(2_000_000)
    target = tmp_path / "scans.jsonl"
    started = time.monotonic()
    download = through_proxy.project(project.id).export("jsonl", target, progress=False)
    elapsed = time.monotonic() - started
    job = download.job
    assert job is not None
    assert job.total == SIZE
    assert cutting_proxy.cuts == 1
    assert download.resumed == 1
    assert not target.with_name("scans.jsonl.part").exists()
    assert not target.with_name("scans.jsonl.labelhub-export.json").exists()

    whole = httpx.get(
        f"{server.url}/api/v1/exports/{job.id}/download/",
        headers={"Authorization": f"Token {server.manager_token}"},
        timeout=60,
    ).content
    written = target.read_bytes()
    assert len(written) == job.size == len(whole)
    assert sha256(written) == sha256(whole)
    assert written.count(b"\n") == SIZE
    size_mb = len(whole) / 1e6
    print(f"\nexport of {SIZE} tasks ({size_mb:.1f} MB), cut once and resumed: {elapsed:.1f} s")


@pytest.mark.django_db(transaction=True)
def test_an_export_broken_off_resumes_in_the_next_run(server, cutting_proxy, tmp_path):
    """The first run gives up (every retry is cut too); the next run with the same path asks for
    the rest of the same export's file instead of starting again."""
    direct = Client(server.url, server.manager_token)
    project = direct.create_project("Small", "transcription", schema=SCHEMA, quality=QUALITY)
    accepted_tasks(project.id, 3000)
    target = tmp_path / "small.jsonl"
    flaky = Client(cutting_proxy.url, server.manager_token, backoff=0.01, max_retries=0)
    cutting_proxy.cut_download_after(50_000)
    with pytest.raises(Exception, match="resume from byte"):
        flaky.project(project.id).export("jsonl", target, progress=False)
    part = target.with_name("small.jsonl.part")
    assert 0 < part.stat().st_size < 200_000
    kept = part.stat().st_size
    download = flaky.project(project.id).export("jsonl", target, progress=False)
    assert download.started_at_byte == kept  # asked for the rest, not the whole file again
    assert download.job is not None
    first_job = download.job.id
    assert len(direct.http.get(f"/api/v1/projects/{project.id}/exports/")["results"]) == 1
    assert target.read_bytes().count(b"\n") == 3000
    assert (
        first_job == direct.http.get(f"/api/v1/projects/{project.id}/exports/")["results"][0]["id"]
    )
    with pytest.raises(NotFound):
        Client(server.url, server.contributor_token).export_status(first_job)
