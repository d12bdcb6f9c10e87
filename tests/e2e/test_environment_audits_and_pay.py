"""In a real Chromium: the manager sets a rate per difficulty and the author reads them before
starting; a reviewer audits an accepted task (their own attempt, what they expect) and the
manager reads the audit agreement."""

import pytest
from playwright.sync_api import Page, expect

from annotation.models import Task, TaskStatus
from kinds.environment.demo import INVOICE_TASK
from sandbox import runner
from tests.e2e.test_environment import log_in
from tests.environment.helpers import make_environment_project
from tests.environment.test_proof_gate import api, claim, submit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not runner.available(), reason="bubblewrap is not installed"),
]


def test_manager_sets_rates_per_difficulty_and_the_author_sees_them(live_server, page: Page):
    project, _, author, _, manager = make_environment_project()
    log_in(page, live_server, manager)
    page.goto(f"{live_server.url}/projects/{project.pk}/pay/")
    page.get_by_label("Per accepted task", exact=True).fill("1")
    page.get_by_label("Per accepted task, difficulty easy").fill("2.5")
    page.get_by_label("Per accepted task, difficulty hard").fill("12")
    page.get_by_role("button", name="Save rates").click()
    expect(page.get_by_text("Rates saved")).to_be_visible()
    expect(page.get_by_label("Per accepted task, difficulty hard")).to_have_value("12.0000")

    page.context.clear_cookies()
    log_in(page, live_server, author)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("pay-terms").first).to_contain_text(
        "by difficulty: 2.50 USD easy, 1.00 USD medium, 12.00 USD hard"
    )


def test_reviewer_audits_an_accepted_task_and_the_manager_reads_the_agreement(
    live_server, page: Page
):
    project, (task,), author, reviewer, manager = make_environment_project()
    client = api(author)
    assignment_id = claim(client, project)
    proof = client.post(f"/api/v1/tasks/{task.pk}/proofs/", {"result": INVOICE_TASK}, format="json")
    assert proof.status_code == 202
    assert submit(client, assignment_id, INVOICE_TASK).status_code == 201
    accepted = api(reviewer).post(f"/api/v1/reviews/{task.pk}/", {"verdict": "accept"})
    assert accepted.status_code == 200, accepted.content
    assert Task.objects.get(pk=task.pk).status == TaskStatus.ACCEPTED

    log_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/projects/{project.pk}/audits/")
    page.get_by_test_id("audit-link").first.click()
    expect(page.get_by_test_id("audit-instruction")).to_contain_text("invoices")
    page.get_by_test_id("audit-attempt").fill("true")  # leaves the files as they were
    page.get_by_test_id("audit-expect-pass").check()  # a mistaken belief: it cannot pass
    page.get_by_test_id("audit-submit").click()
    row = page.get_by_test_id("audit-row")
    expect(row).to_have_attribute("data-agrees", "false", timeout=20_000)
    expect(row.get_by_test_id("audit-verdict")).to_have_text("failed")
    expect(page.get_by_test_id("audit-agreement")).to_contain_text("Agreement 0 of 1")

    page.context.clear_cookies()
    log_in(page, live_server, manager)
    page.goto(f"{live_server.url}/projects/{project.pk}/quality/")
    expect(page.get_by_test_id("dashboard-audit-agreement")).to_contain_text(
        "Audit agreement 0.00 (0 of 1 attempts on 1 task"
    )
    page.get_by_test_id("audit-panel").get_by_role("link", name="Task audits").click()
    expect(page.get_by_test_id("nav-task-audits")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("project-audit-agreement")).to_contain_text("0.00")


def test_manager_edits_the_frame_in_the_settings_form(live_server, page: Page, console_errors):
    """The schema form: a bad limit is refused beside its field; new difficulty levels saved
    there become the Pay page's rates per difficulty."""
    console_errors.expect("status of 422")  # the refused save, and nothing else
    project, _, _, _, manager = make_environment_project()
    log_in(page, live_server, manager)
    page.goto(f"{live_server.url}/projects/{project.pk}/settings/")
    page.get_by_test_id("env-schema-limit-disk_mb").fill("4")
    page.get_by_role("button", name="Save frame").click()
    expect(page.get_by_test_id("env-schema-error-disk_mb")).to_have_text(
        "A whole number from 16 to 10240."
    )
    page.get_by_test_id("env-schema-limit-disk_mb").fill("64")
    page.get_by_test_id("env-schema-difficulties").fill("starter\nexpert")
    page.get_by_role("button", name="Save frame").click()
    expect(page.get_by_test_id("env-schema-error-disk_mb")).to_have_count(0)
    page.goto(f"{live_server.url}/projects/{project.pk}/pay/")
    expect(page.get_by_label("Per accepted task, difficulty expert")).to_be_visible()
    expect(page.get_by_label("Per accepted task, difficulty hard")).to_have_count(0)
