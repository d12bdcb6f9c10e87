"""Review of authored tasks (a fix is re-proved before it stands) and the exports: Harbor task
folders, checked against Harbor's documented task layout, and the JSONL with proofs."""

import copy
import io
import json
import tomllib
import warnings
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from annotation.models import Task, TaskStatus
from kinds.environment.demo import BRIEFS, INVOICE_TASK, PYTEST_TASK
from sandbox import runner
from sandbox.services import BwrapSandbox
from tests.environment.helpers import make_environment_project
from tests.environment.test_proof_gate import api, check, claim, submit
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not runner.available(), reason="bubblewrap is not installed"),
]


def authored(capture, tasks=(INVOICE_TASK,)):
    """A project whose author has proven and submitted ``tasks``, all now waiting for review."""
    project, rows, author, reviewer, manager = make_environment_project(briefs=BRIEFS[: len(tasks)])
    client = api(author)
    for result in tasks:
        assignment_id = claim(client, project)
        task = Task.objects.get(assignments__pk=assignment_id)
        assert check(client, task, result, capture)["holds"] is True
        with capture(execute=True):
            assert submit(client, assignment_id, result).status_code == 201
    for row in rows:
        row.refresh_from_db()
        assert row.status == TaskStatus.IN_REVIEW
    return project, rows, author, reviewer, manager


def test_a_fix_stands_only_once_it_is_proven(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    _, (task,), _, reviewer, _ = authored(capture)
    client = api(reviewer)
    fix = copy.deepcopy(INVOICE_TASK)
    fix["instruction"] += " Round to cents."
    refused = client.post(
        f"/api/v1/reviews/{task.pk}/", {"verdict": "fix", "result": fix}, format="json"
    )
    assert refused.status_code == 400
    assert "Check it first" in refused.json()["proof"][0]
    assert check(client, task, fix, capture)["holds"] is True
    with capture(execute=True):
        fixed = client.post(
            f"/api/v1/reviews/{task.pk}/", {"verdict": "fix", "result": fix}, format="json"
        )
    assert fixed.status_code == 200, fixed.content
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
    assert task.outcome.accepted_result["instruction"].endswith("Round to cents.")


def test_the_reviewer_sees_the_proof_and_the_solutions_diff(
    client, django_capture_on_commit_callbacks
):
    _, (task,), _, reviewer, _ = authored(django_capture_on_commit_callbacks)
    answer = task.annotations.get()
    client.login(username=reviewer.username, password=PASSWORD)
    review = client.get(reverse("quality:review", args=[task.project_id, task.pk]))
    assert review.status_code == 200
    page = review.content.decode()
    assert 'data-testid="env-review"' in page
    assert "summary.json" in page  # the checks, by file
    proof = client.get(reverse("sandbox:answer-proof", args=[answer.pk]))
    shown = proof.content.decode()
    assert "The proof holds" in shown
    assert "What the solution changed" in shown
    assert "solved/summary.json" in shown


def _export(client, project, name: str) -> bytes:
    response = client.get(f"/api/v1/projects/{project.pk}/export/?format={name}")
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content) if response.streaming else response.content


def _harbor_reads(folder: Path, tasks) -> None:
    """Harbor's own task loader (the ``harbor`` package, installed without its agent and cloud
    dependencies by `make test`) reads every exported folder: its task.toml validates against
    Harbor's config model, and the instruction, tests and solution are where Harbor looks."""
    harbor = pytest.importorskip("harbor.models.task.task")
    warnings.simplefilter("error", DeprecationWarning)  # nothing in our files is outdated
    for task in tasks:
        root = folder / f"task-{task.pk}"
        loaded = harbor.Task(root)
        assert loaded.instruction.strip()
        assert loaded.instruction.strip() == (root / "instruction.md").read_text().strip()
        assert loaded.config.verifier.timeout_sec > 0
        assert loaded.config.agent.timeout_sec > 0
        assert loaded.config.environment.network_mode.value == "no-network"
        assert loaded.config.schema_version == "1.4"
        assert loaded.paths.test_path.is_file()
        assert loaded.paths.solve_path.is_file()
        assert harbor.Task.is_valid_dir(root)


def test_harbor_folders_follow_the_task_layout_and_their_verifier_runs(
    django_capture_on_commit_callbacks, tmp_path
):
    capture = django_capture_on_commit_callbacks
    project, tasks, _, reviewer, manager = authored(capture, tasks=(INVOICE_TASK, PYTEST_TASK))
    with capture(execute=True):
        for task in tasks:
            response = api(reviewer).post(f"/api/v1/reviews/{task.pk}/", {"verdict": "accept"})
            assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(_export(api(manager), project, "harbor")))
    names = set(archive.namelist())
    for task in tasks:
        root = f"task-{task.pk}"
        for required in (
            "instruction.md",
            "task.toml",
            "environment/Dockerfile",
            "tests/test.sh",
            "solution/solve.sh",
        ):
            assert f"{root}/{required}" in names
        toml = tomllib.loads(archive.read(f"{root}/task.toml").decode())
        assert toml["schema_version"] == "1.4"
        assert toml["metadata"]["difficulty"] in ("easy", "medium")
        assert toml["verifier"]["timeout_sec"] > 0
        assert toml["agent"]["timeout_sec"] > 0
        assert toml["environment"]["network_mode"] == "no-network"
        assert archive.read(f"{root}/environment/Dockerfile").startswith(b"FROM python:3.13-slim")
        assert b"/logs/verifier/reward.txt" in archive.read(f"{root}/tests/test.sh")
    invoice = f"task-{tasks[0].pk}"
    assert f"{invoice}/environment/files/invoices.csv" in names
    assert f"{invoice}/tests/checks.py" in names
    folder = tmp_path / "harbor"
    archive.extractall(folder)
    _harbor_reads(folder, tasks)

    # The exported folder runs as Harbor would run it: solve, then tests/test.sh, in the sandbox.
    task_dir = folder / invoice
    app = tmp_path / "app"
    (app).mkdir()
    (app / "invoices.csv").write_bytes((task_dir / "environment/files/invoices.csv").read_bytes())
    sandbox = BwrapSandbox()
    solved = sandbox.run(script=(task_dir / "solution/solve.sh").read_text(), app=app, tests=None,
                         logs=None, seconds=30)  # fmt: skip
    assert solved.ok, solved.output
    logs = tmp_path / "logs"
    logs.mkdir()
    verified = sandbox.run(script="bash /tests/test.sh", app=app, tests=task_dir / "tests",
                           logs=logs, seconds=30)  # fmt: skip
    assert verified.ok, verified.output
    assert Path(logs / "reward.txt").read_text().strip() == "1.0"

    lines = [json.loads(line) for line in _export(api(manager), project, "jsonl").splitlines()]
    assert [line["task_id"] for line in lines] == [task.pk for task in tasks]
    assert all(line["proof"]["holds"] for line in lines)
    assert {run["run"] for run in lines[0]["proof"]["runs"]} == {
        "solution",
        "wrong_attempt",
        "repeat",
    }
