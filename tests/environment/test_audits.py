"""Audits of accepted tasks: reviewers try a task themselves, say what they expect, the task's
verifier judges each attempt in the sandbox, and agreement is the share judged as expected."""

import pytest
from django.urls import reverse

from annotation.models import TaskStatus
from kinds.environment.demo import INVOICE_TASK
from labelhub.models import ProjectMember, Role
from sandbox import runner
from sandbox.models import AuditAttempt
from tests.environment.test_proof_gate import api
from tests.environment.test_review_and_export import authored
from tests.factories import PASSWORD, make_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not runner.available(), reason="bubblewrap is not installed"),
]


def accepted(capture):
    project, (task,), author, reviewer, manager = authored(capture)
    with capture(execute=True):
        response = api(reviewer).post(
            f"/api/v1/reviews/{task.pk}/", {"verdict": "accept"}, format="json"
        )
    assert response.status_code == 200, response.content
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
    return project, task, author, reviewer, manager


def audit(client, task, capture, **body):
    with capture(execute=True):
        return client.post(f"/api/v1/tasks/{task.pk}/audits/", body, format="json")


def test_agreement_is_the_share_of_attempts_judged_as_expected(
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    project, task, _, reviewer, manager = accepted(capture)
    second = make_user(organization=project.organization)
    ProjectMember.objects.create(project=project, user=second, role=Role.REVIEWER)

    # The reviewer solves it and expects a pass: the verifier passes it (agrees).
    solved = audit(
        api(reviewer), task, capture, attempt=INVOICE_TASK["solution"], expected_pass=True
    )
    assert solved.status_code == 202, solved.content
    # The manager hands in a wrong answer, expecting a fail: the verifier fails it (agrees).
    wrong = audit(
        api(manager), task, capture, attempt="echo '{\"total\": 1}' > summary.json",
        expected_pass=False,
    )  # fmt: skip
    assert wrong.status_code == 202
    # The second reviewer believes leaving the files alone passes: the verifier fails it.
    mistaken = audit(api(second), task, capture, attempt="true", expected_pass=True)
    assert mistaken.status_code == 202

    rows = {a.auditor_id: a for a in AuditAttempt.objects.all()}
    assert rows[reviewer.pk].verifier_passed is True
    assert rows[reviewer.pk].reward == 1.0
    assert rows[reviewer.pk].agrees is True
    assert rows[manager.pk].verifier_passed is False
    assert rows[manager.pk].agrees is True
    assert rows[second.pk].verifier_passed is False
    assert rows[second.pk].agrees is False

    on_task = api(manager).get(f"/api/v1/tasks/{task.pk}/audits/").json()
    assert on_task["agreement"] == {
        "agreement": 0.6667, "judged": 3, "agreeing": 2, "waiting": 0, "unjudged": 0, "tasks": 1,
    }  # fmt: skip
    assert [a["agrees"] for a in on_task["attempts"]] == [True, True, False]
    on_project = api(manager).get(f"/api/v1/projects/{project.pk}/audits/").json()
    assert on_project["agreement"] == 0.6667

    again = audit(api(reviewer), task, capture, attempt="true", expected_pass=False)
    assert again.status_code == 400
    assert again.json()["task"] == ["You have audited this task already."]


def test_an_audit_is_refused_by_field_and_only_for_accepted_tasks_of_reviewers(
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    _project, (task,), author, reviewer, _ = authored(capture)  # in review, not accepted
    refused = audit(api(reviewer), task, capture, attempt="true", expected_pass=True)
    assert refused.status_code == 400
    assert refused.json()["task"] == ["Only an accepted task can be audited."]
    missing = audit(api(reviewer), task, capture, attempt="")
    assert missing.status_code == 400
    assert set(missing.json()) >= {"attempt", "expected_pass"}
    # The author is no reviewer: the task is not there for them.
    assert api(author).get(f"/api/v1/tasks/{task.pk}/audits/").status_code == 404
    assert not AuditAttempt.objects.exists()


def test_the_audit_pages_and_the_dashboard_show_the_agreement(
    client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    project, task, _, reviewer, manager = accepted(capture)
    client.login(username=reviewer.username, password=PASSWORD)
    url = reverse("sandbox:task-audits", args=[task.pk])
    page = client.get(url).content.decode()
    assert INVOICE_TASK["instruction"][:30] in page
    assert "csv.DictReader" not in page  # as an agent gets it: no solution, no verifier
    assert "audit-form" in page
    unsure = client.post(url, {"attempt": "true"})
    assert unsure.status_code == 422
    assert "Say whether you expect the verifier to pass your attempt." in unsure.content.decode()
    with capture(execute=True):
        done = client.post(url, {"attempt": INVOICE_TASK["solution"], "expected_pass": "pass"})
    assert done.status_code == 302
    shown = client.get(url).content.decode()
    assert 'data-agrees="true"' in shown
    assert "Agreement 1 of 1" in shown
    assert "audit-form" not in shown  # one attempt each

    client.logout()
    client.login(username=manager.username, password=PASSWORD)
    audits = client.get(reverse("sandbox:project-audits", args=[project.pk])).content.decode()
    assert "<strong>1.00</strong>: of 1 attempt on 1 task" in audits
    dashboard = client.get(reverse("quality:dashboard", args=[project.pk])).content.decode()
    assert 'data-testid="audit-panel"' in dashboard
    assert "Audit agreement <strong>1.00</strong>" in dashboard
