"""In a real Chromium: a manager has a judge model (a fake one on loopback) grade an audit
attempt's rubric claims from the task's audits page, and reads its grades and reward there."""

import pytest
from playwright.sync_api import Page, expect

from sandbox import runner
from sandbox.models import AuditAttempt
from tests.e2e.test_environment import log_in
from tests.environment.test_audits import RUBRIC_TASK, accepted, audit
from tests.environment.test_proof_gate import api
from tests.evals.test_audit_judging import JudgeServer, make_judge

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not runner.available(), reason="bubblewrap is not installed"),
]


def test_manager_grades_an_attempts_claims_with_a_judge(
    live_server, page: Page, settings, django_capture_on_commit_callbacks
):
    settings.LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES = True
    capture = django_capture_on_commit_callbacks
    project, task, _, reviewer, manager = accepted(capture, RUBRIC_TASK)
    attempt = audit(
        api(reviewer), task, capture, attempt=RUBRIC_TASK["solution"], expected_pass=True
    )
    assert attempt.status_code == 202, attempt.content
    with JudgeServer() as server:
        make_judge(project.organization, server.base_url)
        log_in(page, live_server, manager)
        page.goto(f"{live_server.url}/tasks/{task.pk}/audits/")
        page.get_by_role("button", name="Grade with judge grader").click()
        judged = page.get_by_test_id("audit-judge")
        expect(judged).to_have_attribute("data-status", "done", timeout=20_000)
    expect(judged.get_by_test_id("audit-judge-reward")).to_have_text("1")
    expect(judged).to_contain_text("grader v1")
    expect(judged).to_contain_text("not met: The attempt rewrote invoices.csv.")
    assert AuditAttempt.objects.get(task=task).judge_grades == [True, True, False]
