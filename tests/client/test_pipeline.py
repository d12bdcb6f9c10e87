"""The client against a live LabelHub, as a customer's nightly pipeline uses it: create a project,
import 10,000 tasks, label some from code, read the accepted results twice (the second time only
the new ones), and check the webhooks that the acceptances sent.

Labeling goes through HTTP one task at a time (next, then submit, with the quality step inline),
so the test labels a hundred or so of the 10,000 (LABELHUB_CLIENT_TEST_LABELED, default 100 then
33) to stay within the client suite's few minutes; the code path is the same for every task."""

import os
import time

import pytest
from labelhub_client import Client, ImportFailed, ValidationFailed, webhooks

from annotation.models import Task
from annotation.webhooks import project_webhook_secret
from labelhub.models import Project as ProjectRow
from tests.client.conftest import QUALITY, SCHEMA

TOTAL = int(os.environ.get("LABELHUB_CLIENT_TEST_TASKS", "10000"))
FIRST = int(os.environ.get("LABELHUB_CLIENT_TEST_LABELED", "100"))
SECOND = FIRST // 3


def tasks(n, *, hook: str = "", hooked: int = 0):
    """A generator, as a pipeline reading its own store would give them."""
    for i in range(n):
        task = {"data": {"image": f"https://img.example.com/{i}.png"}, "external_id": f"doc-{i}"}
        if i < hooked:
            task["callback_url"] = hook
        yield task


def label(project, n: int) -> list[int]:
    done = []
    for item in project.queue():
        item.draft({"text": "half"})
        item.submit({"text": f"text of {item.data['image']}"}, active_seconds=3)
        done.append(item.task.id)
        if len(done) == n:
            break
    return done


@pytest.mark.django_db(transaction=True)
def test_create_import_label_and_follow_results(server, webhook_receiver):
    manager = Client(server.url, server.manager_token)
    project = manager.create_project("Receipts", "transcription", schema=SCHEMA, exist_ok=True)
    assert manager.create_project("Receipts", "transcription", exist_ok=True).id == project.id
    project.update(quality=QUALITY)
    assert project.quality["overlap"] == 1
    with pytest.raises(ValidationFailed) as refused:
        project.update(quality={"overlapp": 3})
    assert "quality" in str(refused.value.fields)
    assert project.add_member(server.contributor, "contributor").role == "contributor"

    started = time.monotonic()
    job = project.import_tasks(
        tasks(TOTAL, hook=webhook_receiver.url, hooked=3), batch_size=2500, progress=False
    )
    job.wait(progress=False)
    assert (job.total, job.created, job.updated) == (TOTAL, TOTAL, 0)
    assert len(job.ids) == TOTAL // 2500
    print(f"\nimport of {TOTAL} tasks: {time.monotonic() - started:.1f} s")
    again = project.import_tasks(tasks(600), batch_size=500, progress=False, wait=True)
    assert (again.created, again.updated) == (0, 600)
    assert Task.objects.filter(project_id=project.id).count() == TOTAL

    ids = list(project.task_ids())
    assert len(ids) == TOTAL == len(set(ids))
    assert ids == sorted(ids)
    first = next(project.tasks(fields=["id", "external_id", "status"]))
    assert (first.external_id, first.status, first.data) == ("doc-0", "open", None)

    labeler = Client(server.url, server.contributor_token)
    mine = labeler.project(project.id)
    labeled = label(mine, FIRST)
    assert len(labeled) == FIRST

    feed = project.results()
    results = list(feed)
    assert [r.task for r in results] == labeled
    assert results[0].result == {"text": "text of https://img.example.com/0.png"}
    assert results[0].external_id == "doc-0"
    cursor = feed.cursor
    assert list(project.results(since=cursor)) == []

    more = label(mine, SECOND)
    newer = project.results(since=cursor, fields=["task", "external_id"], page_size=7)
    assert [r.task for r in newer] == more
    assert newer.cursor != cursor
    assert list(project.results(since=newer.cursor)) == []
    assert len(list(project.tasks(status="accepted", fields=["id"]))) == FIRST + SECOND

    secret = project_webhook_secret(project=ProjectRow.objects.get(pk=project.id))
    assert len(webhook_receiver.deliveries) == 3
    seen = set()
    for headers, body in webhook_receiver.deliveries:
        delivery = webhooks.verify(secret, headers, body)
        assert delivery.event == "task.accepted"
        assert delivery.payload["task"]["external_id"] in {"doc-0", "doc-1", "doc-2"}
        seen.add(delivery.id)
    assert len(seen) == 3
    headers, body = webhook_receiver.deliveries[0]
    with pytest.raises(webhooks.WebhookVerificationError, match="signature"):
        webhooks.verify(secret, headers, body.replace(b"doc-", b"doc-9"))
    with pytest.raises(webhooks.WebhookVerificationError, match="signature"):
        webhooks.verify("another secret", headers, body)
    with pytest.raises(webhooks.WebhookVerificationError, match="window"):
        webhooks.verify(secret, headers, body, now=time.time() + 3600)


@pytest.mark.django_db(transaction=True)
def test_import_errors_name_the_row_over_the_whole_import(server):
    client = Client(server.url, server.manager_token)
    project = client.create_project("Rows", "transcription", schema=SCHEMA)
    rows = list(tasks(30))
    rows[23]["data"] = {"picture": "x"}
    with pytest.raises(ImportFailed) as failed:
        project.import_tasks(rows, batch_size=10, progress=False)
    problem = failed.value.problems[0]
    assert problem.row == 24
    assert problem.field.startswith("data")
    assert "row 24" in str(failed.value)
    # The batches before it were written; after a fix, sending all again duplicates nothing.
    rows[23]["data"] = {"image": "https://img.example.com/23.png"}
    job = project.import_tasks(rows, batch_size=10, progress=False, wait=True)
    assert (job.created, job.updated) == (10, 20)
    assert Task.objects.filter(project_id=project.id).count() == 30
