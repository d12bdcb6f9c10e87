"""RL environment authoring in a real Chromium: an author writes a task with state checks and
one with a pytest verifier, Check shows passing and failing runs, Submit is refused until the
proof holds; a reviewer accepts; the manager exports Harbor task folders."""

import io
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from annotation.models import Task, TaskStatus
from kinds.environment.demo import INVOICE_TASK, INVOICES_CSV, PYTEST_TASK
from sandbox import runner
from tests.environment.helpers import make_environment_project
from tests.environment.test_proof_gate import api

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not runner.available(), reason="bubblewrap is not installed"),
]


def log_in(page: Page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


def start(page: Page) -> None:
    page.get_by_test_id("start").click()
    editor_ready(page)


def editor_ready(page: Page) -> None:
    """The editor is mounted (it fills its fields from the draft then: type after that)."""
    expect(page.get_by_test_id("env-editor")).to_be_visible()
    page.wait_for_selector("[data-editor-root][data-mounted=true]")


def settle(page: Page) -> None:
    """Wait for the draft's autosave: the live server's in-memory SQLite refuses a second writer
    at once ("table is locked") where a real database would wait."""
    expect(page.get_by_test_id("save-state")).to_have_text("Draft saved", timeout=15_000)


def leave(page: Page) -> None:
    """Let the last save land and stop the page's timers before the database is flushed."""
    settle(page)
    page.goto("about:blank")


def add_file(page: Page, path: str, text: str) -> None:
    page.get_by_test_id("env-add-file").click()
    row = page.get_by_test_id("env-file").last
    row.get_by_test_id("env-file-path").fill(path)
    row.get_by_test_id("env-file-text").fill(text)


def add_check(page: Page, *, file: str, json_path: str, op: str, value: str) -> None:
    page.get_by_test_id("env-add-check").click()
    row = page.get_by_test_id("env-check-row").last
    row.get_by_test_id("env-check-file").fill(file)
    row.get_by_test_id("env-check-target").select_option("json")
    row.get_by_test_id("env-check-json").fill(json_path)
    row.get_by_test_id("env-check-op").select_option(op)
    row.get_by_test_id("env-check-value").fill(value)


def press_check(page: Page) -> None:
    """Check, and wait for the new proof's verdict (the old panel is marked stale first)."""
    settle(page)
    page.evaluate("document.getElementById('proof-panel').dataset.stale = 'yes'")
    page.get_by_test_id("env-check").click()
    fresh = page.locator("#proof-panel:not([data-stale]) [data-testid=proof-verdict]")
    expect(fresh).to_be_visible(timeout=60_000)


def runs(page: Page) -> dict[str, tuple[str, str]]:
    rows = page.get_by_test_id("proof-run")
    return {
        rows.nth(i).get_attribute("data-run"): (
            rows.nth(i).get_by_test_id("proof-reward").inner_text(),
            rows.nth(i).get_attribute("data-passed"),
        )
        for i in range(rows.count())
    }


def test_author_proves_and_submits_reviewer_accepts_manager_exports(
    live_server, page: Page, console_errors
):
    project, tasks, author, reviewer, manager = make_environment_project(
        briefs=[{"brief": "Invoices for a spreadsheet agent."}, {"brief": "A bug to fix."}]
    )
    console_errors.expect("422")  # the refused submit answers 422, by design
    log_in(page, live_server, author)
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    start(page)
    expect(page.get_by_test_id("env-limits")).to_contain_text("Up to 200 text files")

    # Task 1: state checks, first with a wrong attempt the verifier cannot tell from the solution.
    page.get_by_test_id("env-instruction").fill(INVOICE_TASK["instruction"])
    add_file(page, "invoices.csv", INVOICES_CSV)
    expect(page.get_by_test_id("env-tree")).to_contain_text("invoices.csv")
    page.get_by_label("python", exact=True).check()
    add_check(page, file="summary.json", json_path="$.open_total", op="eq", value="105.25")
    add_check(page, file="summary.json", json_path="$.open_ids", op="deep_equal", value="[2, 3]")
    page.get_by_test_id("env-solution").fill(INVOICE_TASK["solution"])
    page.get_by_test_id("env-wrong").fill(INVOICE_TASK["solution"])
    page.get_by_test_id("env-difficulty").select_option("easy")
    page.get_by_test_id("env-minutes").fill("5")
    press_check(page)
    expect(page.get_by_test_id("proof-verdict")).to_contain_text("does not hold")
    assert runs(page) == {
        "solution": ("1", "true"),
        "wrong_attempt": ("1", "false"),
        "repeat": ("1", "true"),
    }
    expect(page.get_by_test_id("proof-reasons")).to_contain_text("passes the wrong attempt")
    settle(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("submit-errors")).to_contain_text("does not hold")
    assert not Task.objects.get(pk=tasks[0].pk).annotations.exists()

    page.get_by_test_id("env-wrong").fill(INVOICE_TASK["wrong_attempt"])
    press_check(page)
    expect(page.get_by_test_id("proof-verdict")).to_contain_text("The proof holds")
    assert runs(page) == {
        "solution": ("1", "true"),
        "wrong_attempt": ("0", "true"),
        "repeat": ("1", "true"),
    }
    settle(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Submitted.")

    # Task 2: a pytest verifier.
    editor_ready(page)
    page.get_by_test_id("env-instruction").fill(PYTEST_TASK["instruction"])
    add_file(page, "slug.py", PYTEST_TASK["files"]["slug.py"])
    page.get_by_test_id("env-script-language").select_option("pytest")
    page.get_by_test_id("env-script").fill(PYTEST_TASK["verifier"]["script"]["code"])
    page.get_by_test_id("env-solution").fill(PYTEST_TASK["solution"])
    page.get_by_test_id("env-wrong").fill(PYTEST_TASK["wrong_attempt"])
    page.get_by_test_id("env-difficulty").select_option("medium")
    page.get_by_test_id("env-minutes").fill("10")
    press_check(page)
    expect(page.get_by_test_id("proof-verdict")).to_contain_text("The proof holds")
    assert runs(page)["wrong_attempt"] == ("0", "true")
    settle(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Submitted.")
    deadline = time.monotonic() + 15  # judging runs once each submit has committed
    while time.monotonic() < deadline and Task.objects.filter(
        project=project, status=TaskStatus.IN_REVIEW
    ).count() < len(tasks):
        time.sleep(0.2)
    assert {t.status for t in Task.objects.filter(project=project)} == {TaskStatus.IN_REVIEW}

    # The reviewer sees the proof and accepts the first task on the review screen.
    log_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/projects/{project.pk}/reviews/{tasks[0].pk}/")
    expect(page.get_by_test_id("env-review")).to_be_visible()
    expect(page.get_by_test_id("proof-verdict")).to_contain_text("The proof holds")
    expect(page.get_by_test_id("proof-diff")).to_contain_text("summary.json")
    page.get_by_test_id("accept").click()
    page.wait_for_url(lambda url: f"/reviews/{tasks[0].pk}/" not in url)
    accepted = api(reviewer).post(f"/api/v1/reviews/{tasks[1].pk}/", {"verdict": "accept"})
    assert accepted.status_code == 200
    assert {t.status for t in Task.objects.filter(project=project)} == {TaskStatus.ACCEPTED}

    # The manager exports Harbor task folders.
    log_in(page, live_server, manager)
    page.goto(f"{live_server.url}/projects/{project.pk}/export/")
    page.get_by_label("Harbor task folders (zip)").check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Export").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    for task in tasks:
        toml = tomllib.loads(archive.read(f"task-{task.pk}/task.toml").decode())
        assert toml["environment"]["network_mode"] == "no-network"
    assert archive.read(f"task-{tasks[1].pk}/tests/test_task.py").startswith(b"import sys")


def test_the_lease_is_renewed_while_the_author_works(live_server, page: Page, monkeypatch):
    """A kind's ``lease_renewal_seconds``: an active author's draft is saved again (renewing the
    lease) though the answer did not change."""
    from kinds.environment.kind import EnvironmentKind

    monkeypatch.setattr(EnvironmentKind, "lease_renewal_seconds", 2)
    project, _, author, _, _ = make_environment_project()
    log_in(page, live_server, author)
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    start(page)
    assignment = author.assignments.get()
    first_expiry = assignment.lease_expires_at
    for _ in range(8):  # active (keys) but changing nothing
        page.keyboard.press("Shift")
        time.sleep(0.5)
    leave(page)
    assignment.refresh_from_db()
    assert assignment.version > 1
    assert assignment.lease_expires_at > first_expiry


def test_a_zip_fills_the_file_tree_and_the_limits_are_shown(live_server, page: Page, tmp_path):
    project, _, author, _, _ = make_environment_project()
    upload = tmp_path / "start.zip"
    with zipfile.ZipFile(upload, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/invoices.csv", INVOICES_CSV)
        archive.writestr("README.md", "# Invoices\n" * 50)
        archive.writestr("logo.png", b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    log_in(page, live_server, author)
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    start(page)
    page.get_by_test_id("env-zip").set_input_files(str(upload))
    expect(page.get_by_test_id("env-tree")).to_contain_text("data/invoices.csv")
    expect(page.get_by_test_id("env-usage")).to_contain_text("2 of 200 files")
    expect(page.get_by_test_id("env-usage")).to_contain_text("left out (not text): logo.png")
    texts = page.get_by_test_id("env-file-text")
    assert INVOICES_CSV in [texts.nth(i).input_value() for i in range(texts.count())]
    leave(page)
