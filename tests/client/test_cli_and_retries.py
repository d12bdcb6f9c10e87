"""What the pipeline test does not reach: ``item.skip()``, the environment variables, the command
line's ``login``, ``invite`` and ``results --since``, retries of 5xx answers (a proxy in front of
the live server answers 503 twice, then lets the call through), and an export download that meets
a cut, a 503 and a 429 while it resumes."""

import hashlib
import json
import stat
import threading

import httpx
import pytest
from click.testing import CliRunner
from django.db import connection
from labelhub_client import Client, ServerError
from labelhub_client.cli import main

from annotation.models import Assignment
from labelhub.models import Invitation
from tests.client.conftest import QUALITY, SCHEMA
from tests.client.test_export_resume import accepted_tasks
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def rows(n: int, prefix: str = "t"):
    return [
        {"data": {"image": f"https://img.example.com/{i}.png"}, "external_id": f"{prefix}{i}"}
        for i in range(n)
    ]


def labelled_project(server, name: str, n: int):
    manager = Client(server.url, server.manager_token)
    project = manager.create_project(name, "transcription", schema=SCHEMA, quality=QUALITY)
    project.add_member(server.contributor, "contributor")
    project.import_tasks(rows(n), progress=False, wait=True)
    return manager, project


def test_a_skipped_item_is_given_back_and_the_queue_goes_on(server):
    _manager, project = labelled_project(server, "Skips", 2)
    bot = Client(server.url, server.contributor_token).project(project.id)
    queue = bot.queue()
    first = next(queue)
    skipped = first.skip("broken_media")
    assert first.finished
    assert skipped.status == "skipped"
    row = Assignment.objects.get(pk=first.assignment.id)
    assert (row.status, row.skip_reason) == ("skipped", "broken_media")
    second = next(queue)
    assert second.task.id != first.task.id
    second.submit({"text": "read"})
    assert list(queue) == []  # the skipped task is not handed back to whoever skipped it


def test_client_reads_the_server_and_token_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("LABELHUB_URL", server.url)
    monkeypatch.setenv("LABELHUB_TOKEN", server.manager_token)
    project = Client().create_project("From env", "transcription", schema=SCHEMA)
    assert Client().project(project.id).name == "From env"
    monkeypatch.setenv("LABELHUB_TOKEN", "not-a-token")
    with pytest.raises(Exception, match=r"401|[Tt]oken"):
        Client().project(project.id)
    monkeypatch.delenv("LABELHUB_URL")
    with pytest.raises(ValueError, match="LABELHUB_URL"):
        Client()


def test_login_saves_a_private_token_that_later_commands_use(server, tmp_path, monkeypatch):
    _manager, project = labelled_project(server, "Logged in", 0)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("LABELHUB_URL", raising=False)
    monkeypatch.delenv("LABELHUB_TOKEN", raising=False)
    runner = CliRunner()
    wrong = runner.invoke(main, ["--url", server.url, "login"], input=f"{server.contributor}\nx\n")
    assert wrong.exit_code == 1
    assert "Error:" in wrong.output
    assert not (tmp_path / "labelhub" / "config.json").exists()

    done = runner.invoke(
        main, ["--url", server.url, "login"], input=f"{server.contributor}\n{PASSWORD}\n"
    )
    assert done.exit_code == 0, done.output
    saved = tmp_path / "labelhub" / "config.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    config = json.loads(saved.read_text())
    assert config["url"] == server.url
    # No --url, no --token, no environment: the saved login is used.
    listed = runner.invoke(main, ["--json", "projects", "list"])
    assert listed.exit_code == 0, listed.output
    assert [(p["id"], p["role"]) for p in json.loads(listed.output)] == [
        (project.id, "contributor")
    ]


def test_invite_from_the_command_line(server):
    _manager, project = labelled_project(server, "Invites", 0)
    result = CliRunner().invoke(
        main,
        [
            "--url",
            server.url,
            "--token",
            server.manager_token,
            "invite",
            "kim@example.com",
            "sam@example.com",
            "--project",
            str(project.id),
            "--role",
            "reviewer",
        ],
    )
    assert result.exit_code == 0, result.output
    header, *lines = result.output.strip().splitlines()
    assert header.split() == ["ID", "EMAIL", "ROLE", "STATE", "URL"]
    assert len(lines) == 2
    assert "kim@example.com" in lines[0]
    assert "reviewer" in lines[0]
    invitations = Invitation.objects.filter(project_id=project.id).order_by("email")
    assert [(i.email, i.role) for i in invitations] == [
        ("kim@example.com", "reviewer"),
        ("sam@example.com", "reviewer"),
    ]
    refused = CliRunner().invoke(
        main, ["--url", server.url, "--token", server.manager_token, "invite", "x@example.com"]
    )
    assert refused.exit_code == 2
    assert "--project" in refused.output


def test_results_since_a_cursor_from_the_command_line(server):
    _manager, project = labelled_project(server, "Feed", 5)
    bot = Client(server.url, server.contributor_token).project(project.id)
    queue = bot.queue()
    for _ in range(2):
        item = next(queue)
        item.submit({"text": f"first {item.task.id}"})
    base = ["--url", server.url, "--token", server.manager_token, "--json", "results"]
    first = json.loads(CliRunner().invoke(main, [*base, "--project", str(project.id)]).output)
    assert len(first["results"]) == 2
    cursor = first["cursor"]
    for item in queue:
        item.submit({"text": f"second {item.task.id}"})
    later = CliRunner().invoke(main, [*base, "--project", str(project.id), "--since", cursor])
    assert later.exit_code == 0, later.output
    newer = json.loads(later.output)
    assert [r["result"]["text"].split()[0] for r in newer["results"]] == ["second"] * 3
    assert not {r["task"] for r in newer["results"]} & {r["task"] for r in first["results"]}
    assert newer["cursor"] != cursor
    human = CliRunner().invoke(
        main,
        [
            *("--url", server.url, "--token", server.manager_token, "results"),
            *("--project", str(project.id), "--since", newer["cursor"]),
        ],
    )
    assert human.output.strip().splitlines()[-1] == f"cursor: {newer['cursor']}"


def test_5xx_answers_are_retried_for_idempotent_calls_only(server, flaky_proxy):
    direct = Client(server.url, server.manager_token)
    project = direct.create_project("Flaky", "transcription", schema=SCHEMA, quality=QUALITY)
    client = Client(flaky_proxy.url, server.manager_token, backoff=0.01)
    flaky_proxy.plan(f"/api/v1/projects/{project.id}/", [503, 502])
    assert client.project(project.id).name == "Flaky"
    asked = [s for s in flaky_proxy.seen if s[0] == "GET"]
    assert [s[3] for s in asked] == ["503", "502", "pass"]

    # An import batch naming every task is repeatable: retried, and written once.
    flaky_proxy.plan(f"/api/v1/projects/{project.id}/tasks/", [503, 500])
    job = client.project(project.id).import_tasks(rows(3), progress=False, wait=True)
    assert (job.created, job.updated) == (3, 0)

    # Creating a project is not repeatable: the first 503 is the answer.
    flaky_proxy.plan("/api/v1/projects/", [503])
    with pytest.raises(ServerError) as refused:
        client.create_project("Not twice", "transcription", schema=SCHEMA)
    assert refused.value.status == 503
    assert [p.name for p in direct.projects()].count("Not twice") == 0

    impatient = Client(flaky_proxy.url, server.manager_token, backoff=0.01, max_retries=1)
    flaky_proxy.plan(f"/api/v1/projects/{project.id}/", [503, 503])
    with pytest.raises(ServerError, match="Injected 503"):
        impatient.project(project.id)


def test_a_download_resumes_through_a_cut_a_503_and_a_429(server, flaky_proxy, tmp_path):
    direct = Client(server.url, server.manager_token)
    project = direct.create_project("Busy export", "transcription", schema=SCHEMA, quality=QUALITY)
    accepted_tasks(project.id, 5000)
    client = Client(flaky_proxy.url, server.manager_token, backoff=0.01)
    flaky_proxy.plan("/download/", [("cut", 100_000), 503, 429])
    target = tmp_path / "busy.jsonl"
    download = client.project(project.id).export("jsonl", target, progress=False)
    assert (download.resumed, download.refused) == (1, 2)
    ranges = [s[2] for s in flaky_proxy.seen if "/download/" in s[1]]
    assert ranges[0] == ""
    assert len(ranges) == 4
    assert ranges[1] == ranges[2] == ranges[3] == "bytes=100000-"
    assert download.job is not None
    whole = httpx.get(
        f"{server.url}/api/v1/exports/{download.job.id}/download/",
        headers={"Authorization": f"Token {server.manager_token}"},
    ).content
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(whole).digest()
    assert target.read_bytes().count(b"\n") == 5000


def test_projects_and_members_are_lazy_cursor_listings(server, flaky_proxy):
    manager = Client(server.url, server.manager_token)
    made = [manager.create_project(f"P{i}", "transcription", schema=SCHEMA) for i in range(5)]
    asked: list[str] = []
    manager.http.client.event_hooks["request"].append(lambda r: asked.append(str(r.url)))
    listing = manager.projects(page_size=2)
    assert asked == []  # nothing fetched before the loop
    assert [p.id for p in listing] == [p.id for p in made]
    assert len([u for u in asked if "/api/v1/projects/?" in u]) == 3

    project = made[0]
    project.add_member(server.contributor, "contributor")
    project.add_member(server.contributor, "reviewer")
    rows = list(project.members(page_size=1))
    assert [(m.username, m.role) for m in rows][1:] == [
        (server.contributor, "contributor"),
        (server.contributor, "reviewer"),
    ]
    assert project.set_member_role(rows[1], "manager").role == "manager"
    project.remove_member(rows[2])
    assert [m.role for m in project.members()] == ["manager", "manager"]

    # By name: one project, whether the runs come one after another, at once, or retried.
    flaky_proxy.plan("/api/v1/projects/", [503])
    retried = Client(flaky_proxy.url, server.manager_token, backoff=0.01)
    again = retried.create_project("P0", "transcription", exist_ok=True)
    assert again.id == project.id
    answers: list[int] = []

    def run() -> None:
        with Client(server.url, server.manager_token) as client:
            answers.append(client.create_project("Nightly", "transcription", exist_ok=True).id)

    runs = 3 if connection.vendor == "postgresql" else 1  # SQLite: one connection to share
    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == runs
    assert len(set(answers)) == 1
    assert [p.name for p in manager.projects()].count("Nightly") == 1


def test_a_broken_export_is_resumed_only_for_the_same_options(server, flaky_proxy, tmp_path):
    direct = Client(server.url, server.manager_token)
    project = direct.create_project("Options", "transcription", schema=SCHEMA, quality=QUALITY)
    accepted_tasks(project.id, 3000)
    flaky = Client(flaky_proxy.url, server.manager_token, backoff=0.01, max_retries=0)
    target = tmp_path / "options.jsonl"
    flaky_proxy.plan("/download/", [("cut", 50_000)])
    with pytest.raises(Exception, match="resume from byte"):
        flaky.project(project.id).export("jsonl", target, progress=False)
    first = json.loads(target.with_name("options.jsonl.labelhub-export.json").read_text())
    # Asked with other options, the old export's part is not continued: a new export starts.
    other = flaky.project(project.id).export("jsonl", target, progress=False, accepted_only=False)
    assert other.started_at_byte == 0
    assert other.job is not None
    assert other.job.id != first["export_id"]
    assert other.job.options["accepted_only"] is False
    assert target.read_bytes().count(b"\n") == 3000
