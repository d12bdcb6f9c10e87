"""The client against a live LabelHub, as a customer's nightly pipeline uses it: create a project,
import 10,000 tasks, label them from code with several bots at once (each its own token, its own
``project.queue()`` loop), read the accepted results twice (the second time only the new ones),
export the labelled tasks and compare the file with what the bots submitted, and check the
webhooks that the acceptances sent.

Labeling goes through HTTP one task at a time (next, draft, submit, with the quality step
inline), so by default the bots label 800 of the 10,000 (LABELHUB_CLIENT_TEST_LABELED: the
first round; a third as many again in the second) to stay within the client suite's few minutes;
set it to 7500 to label them all. The code path is the same for every task."""

import json
import os
import threading
import time

import pytest
from django.db import connection
from labelhub_client import Client, ImportFailed, ValidationFailed, webhooks

from annotation.models import Task
from annotation.webhooks import project_webhook_secret
from labelhub.accounts import api_token_issue
from labelhub.models import Organization
from labelhub.models import Project as ProjectRow
from tests.client.conftest import QUALITY, SCHEMA
from tests.factories import make_user

TOTAL = int(os.environ.get("LABELHUB_CLIENT_TEST_TASKS", "10000"))
FIRST = int(os.environ.get("LABELHUB_CLIENT_TEST_LABELED", "600"))
SECOND = FIRST // 3
BOTS = 4


def tasks(n, *, hook: str = "", hooked: int = 0):
    """A generator, as a pipeline reading its own store would give them."""
    for i in range(n):
        task = {"data": {"image": f"https://img.example.com/{i}.png"}, "external_id": f"doc-{i}"}
        if i < hooked:
            task["callback_url"] = hook
        yield task


def answer_for(data: dict) -> dict:
    """What a bot's "model" says for a task: derived from the task, so the export can be checked."""
    return {"text": f"text of {data['image']}"}


def label(project, n: int) -> list[int]:
    """One bot: ``n`` tasks through ``project.queue()``, each drafted then submitted."""
    done = []
    if n <= 0:
        return done
    for item in project.queue():
        item.draft({"text": "half"})
        item.submit(answer_for(item.data), active_seconds=3)
        done.append(item.task.id)
        if len(done) == n:
            break
    return done


def label_with_bots(bots: list, n: int) -> list[int]:
    """``n`` tasks shared among the bots, each in its own thread (on SQLite, where the live
    server shares the test's one connection, one bot at a time)."""
    if connection.vendor != "postgresql":
        return [task for bot in bots for task in label(bot, n // len(bots))] + label(
            bots[0], n % len(bots)
        )
    shares = [n // len(bots) + (i < n % len(bots)) for i in range(len(bots))]
    done: list[list[int]] = [[] for _ in bots]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            done[i] = label(bots[i], shares[i])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bots))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [len(d) for d in done] == shares
    return [task for tasks_of_bot in done for task in tasks_of_bot]


def bot_clients(server, project) -> list:
    """``BOTS`` contributors of the project, each with its own token and client."""
    organization = Organization.objects.get(slug=server.organization)
    tokens = [server.contributor_token]
    for _ in range(BOTS - 1):
        bot = make_user(organization=organization)
        project.add_member(bot.username, "contributor")
        tokens.append(api_token_issue(user=bot).key)
    return [Client(server.url, token).project(project.id) for token in tokens]


@pytest.mark.django_db(transaction=True)
def test_create_import_label_and_follow_results(server, webhook_receiver, tmp_path):
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

    bots = bot_clients(server, project)
    started = time.monotonic()
    labeled = label_with_bots(bots, FIRST)
    print(f"{BOTS} bots labeled {FIRST} tasks: {time.monotonic() - started:.1f} s")
    assert len(labeled) == len(set(labeled)) == FIRST

    feed = project.results()
    results = list(feed)
    assert sorted(r.task for r in results) == sorted(labeled)
    by_task = {r.task: r for r in results}
    first_task = Task.objects.get(project_id=project.id, external_id="doc-0").pk
    assert by_task[first_task].result == {"text": "text of https://img.example.com/0.png"}
    assert by_task[first_task].external_id == "doc-0"
    cursor = feed.cursor
    assert list(project.results(since=cursor)) == []

    more = label_with_bots(bots, SECOND)
    newer = project.results(since=cursor, fields=["task", "external_id"], page_size=7)
    assert sorted(r.task for r in newer) == sorted(more)
    assert not set(more) & set(labeled)
    assert newer.cursor != cursor
    assert list(project.results(since=newer.cursor)) == []
    accepted = {t.id for t in project.tasks(status="accepted", fields=["id"])}
    assert accepted == set(labeled) | set(more)

    # The labelled chain, exported: every accepted task once, with the answer its bot submitted.
    target = tmp_path / "receipts.jsonl"
    download = project.export("jsonl", target, progress=False)
    assert download.job is not None
    assert download.job.total == FIRST + SECOND
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(lines) == FIRST + SECOND
    assert {line["task_id"] for line in lines} == accepted
    for line in lines:
        assert {"text": line["text"]} == answer_for({"image": line["media"]}), line
        assert line["external_id"] == "doc-" + line["media"].rsplit("/", 1)[1].removesuffix(".png")

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
    # A replay within the window under another delivery id: the signed id in the body wins.
    replayed = {**headers, "X-LabelHub-Delivery": "987654"}
    with pytest.raises(webhooks.WebhookVerificationError, match="not the signed one"):
        webhooks.verify(secret, replayed, body)
    without_header = {k: v for k, v in headers.items() if k.lower() != "x-labelhub-delivery"}
    assert webhooks.verify(secret, without_header, body).id == str(json.loads(body)["delivery_id"])


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
