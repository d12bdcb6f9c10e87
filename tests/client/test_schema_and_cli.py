"""The client's shapes against the server's OpenAPI schema, its retries, and the ``labelhub``
command line, all against a live server."""

import dataclasses
import json
import time
import typing
from datetime import datetime, timedelta

import httpx
import pytest
from click.testing import CliRunner
from django.core.cache import cache
from django.utils import timezone
from labelhub_client import Client, NotFound, RateLimited, models
from labelhub_client.cli import main

from annotation.models import Assignment, ImportJob, Task
from tests.client.conftest import QUALITY, SCHEMA

pytestmark = pytest.mark.django_db(transaction=True)

JSON_TYPES = {int: "integer", str: "string", float: "number", bool: "boolean", datetime: "string"}


def schema_type(prop: dict, components: dict) -> tuple[str | None, bool]:
    """A property's JSON type (None: any, or an enum by reference) and whether it may be null."""
    nullable = bool(prop.get("nullable"))
    for part in prop.get("allOf", []) + prop.get("oneOf", []):
        if "$ref" in part:
            target = components[part["$ref"].rsplit("/", 1)[1]]
            return target.get("type"), nullable or bool(target.get("nullable"))
        if part.get("enum") == [None]:
            nullable = True
    if "$ref" in prop:
        return components[prop["$ref"].rsplit("/", 1)[1]].get("type"), nullable
    return prop.get("type"), nullable


def disagreements(model: type[models.Model], components: dict) -> list[str]:
    component = components.get(model.SCHEMA)
    if component is None:
        return [f"{model.__name__}: no component {model.SCHEMA} in the schema"]
    found = []
    for name, hint in model.schema_fields().items():
        prop = component["properties"].get(name)
        if prop is None:
            found.append(f"{model.__name__}.{name}: not in {model.SCHEMA}")
            continue
        args = typing.get_args(hint)
        optional = type(None) in args
        base = next((a for a in args if a is not type(None)), hint) if optional else hint
        origin = typing.get_origin(base) or base
        expected, nullable = schema_type(prop, components)
        if nullable and not optional:
            found.append(f"{model.__name__}.{name}: may be null on the server")
        if origin is list and expected not in (None, "array"):
            found.append(f"{model.__name__}.{name}: a list here, {expected} there")
        elif origin in JSON_TYPES and expected not in (None, JSON_TYPES[origin]):
            if not (origin is float and expected == "integer"):
                found.append(f"{model.__name__}.{name}: {origin.__name__} here, {expected} there")
        elif origin is dict and expected not in (None, "object"):
            found.append(f"{model.__name__}.{name}: an object here, {expected} there")
    return found


def test_client_models_match_the_servers_openapi_schema(server):
    schema = httpx.get(
        f"{server.url}/api/v1/schema/",
        params={"format": "json"},
        headers={"Authorization": f"Token {server.manager_token}"},
    ).json()
    components = schema["components"]["schemas"]
    problems = [p for model in models.ALL_MODELS for p in disagreements(model, components)]
    assert problems == []
    # The check itself can fail: a field the server does not have, or a wrong type.
    broken = dataclasses.make_dataclass(
        "Broken", [("bytes", int, 0), ("total", str, "")], bases=(models.ExportStatus,)
    )
    assert disagreements(broken, components) == [
        "Broken.total: str here, integer there",
        "Broken.bytes: not in ExportJobOutput",
    ]


def test_rate_limited_writes_are_retried_after_retry_after(server, settings):
    settings.API_WRITE_RATE = "2/s"
    client = Client(server.url, server.manager_token, backoff=0.01)
    statuses = []
    client.http.client.event_hooks["response"].append(lambda r: statuses.append(r.status_code))
    project = client.create_project("Busy", "transcription", schema=SCHEMA)
    for _ in range(4):
        project.update(quality=QUALITY)
    assert 429 in statuses
    assert statuses[-1] == 200
    settings.API_WRITE_RATE = "2/min"
    cache.clear()
    impatient = Client(server.url, server.manager_token, max_retries=0)
    mine = impatient.project(project.id)
    mine.update(quality=QUALITY)
    mine.update(quality=QUALITY)
    with pytest.raises(RateLimited) as limited:
        mine.update(quality=QUALITY)
    assert limited.value.retry_after > 1
    assert limited.value.code == "rate_limited"


def test_errors_are_typed_and_connection_failures_are_retried(server):
    client = Client(server.url, server.manager_token)
    with pytest.raises(NotFound):
        client.project(999999)
    assert client.api_version is not None
    nowhere = Client("http://127.0.0.1:9", "x", max_retries=2, backoff=0.01)
    attempts = []
    nowhere.http.client.event_hooks["request"].append(attempts.append)
    with pytest.raises(Exception, match=r"127\.0\.0\.1:9|Connect|refused"):
        nowhere.project(1)
    assert len(attempts) == 3


def run(server, *args, token=None):
    result = CliRunner().invoke(
        main, ["--url", server.url, "--token", token or server.manager_token, *args]
    )
    return result


def test_command_line_creates_imports_waits_and_reads_results(server, tmp_path, settings):
    settings.LABELHUB_IMPORT_SYNC_LIMIT = 10
    created = run(
        server,
        "--json",
        "projects",
        "create",
        "CLI",
        "--kind",
        "transcription",
        "--quality",
        json.dumps(QUALITY),
    )
    assert created.exit_code == 0, created.output
    project_id = json.loads(created.output)["id"]
    listed = run(server, "projects", "list")
    assert "CLI" in listed.output
    assert "NAME" in listed.output
    shown = json.loads(run(server, "--json", "projects", "show", str(project_id)).output)
    assert shown["quality"]["overlap"] == 1

    file = tmp_path / "tasks.jsonl"
    file.write_text(
        "\n".join(
            json.dumps(
                {"data": {"audio": f"https://a.example.com/{i}.mp3"}, "external_id": f"a{i}"}
            )
            for i in range(25)
        )
    )
    imported = run(server, "--json", "import", str(file), "--project", str(project_id), "--no-wait")
    assert imported.exit_code == 0, imported.output
    ids = json.loads(imported.output)["imports"]
    assert len(ids) == 1
    waited = run(server, "--json", "wait", *map(str, ids))
    assert json.loads(waited.output)["created"] == 25
    assert ImportJob.objects.get(pk=ids[0]).status == "done"
    assert Task.objects.filter(project_id=project_id).count() == 25

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"data": {"picture": 1}, "external_id": "z"}) + "\n")
    refused = run(server, "import", str(bad), "--project", str(project_id))
    assert refused.exit_code == 1
    assert "row 1, data" in refused.output

    results = run(server, "results", "--project", str(project_id))
    assert results.exit_code == 0
    assert "cursor:" in results.output
    out = tmp_path / "out.jsonl"
    exported = run(
        server,
        "export",
        "--project",
        str(project_id),
        "--format",
        "jsonl",
        "-o",
        str(out),
        "--all-tasks",
    )
    assert exported.exit_code == 0, exported.output
    missing = run(server, "projects", "show", "999999")
    assert missing.exit_code == 1
    assert "Error:" in missing.output


def test_an_open_item_keeps_its_lease_until_it_is_submitted(server):
    manager = Client(server.url, server.manager_token)
    project = manager.create_project("Leases", "transcription", schema=SCHEMA, quality=QUALITY)
    project.add_member(server.contributor, "contributor")
    project.import_tasks(list(tasks_for_leases()), progress=False, wait=True)
    mine = Client(server.url, server.contributor_token).project(project.id)
    item = next(mine.queue(auto_renew=False))
    soon = timezone.now() + timedelta(seconds=2)
    Assignment.objects.filter(pk=item.assignment.id).update(lease_expires_at=soon)
    item.expires_at = soon
    item._schedule()  # the timer the queue starts, here due in a second
    time.sleep(2.5)
    lease = Assignment.objects.get(pk=item.assignment.id).lease_expires_at
    assert lease > timezone.now() + timedelta(minutes=5)
    assert item.expires_at == lease
    item.submit({"text": "done"})
    assert item.finished
    assert Assignment.objects.get(pk=item.assignment.id).status == "submitted"


def tasks_for_leases():
    for i in range(2):
        yield {"data": {"image": f"https://img.example.com/{i}.png"}, "external_id": f"l{i}"}
