"""Audits of accepted tasks: reviewers try a task themselves, say what they expect, the task's
verifier judges each attempt in the sandbox, and agreement is the share judged as expected."""

import copy

import pytest
from django.urls import reverse

from annotation.models import Task, TaskStatus
from kinds.environment.demo import INVOICE_TASK
from labelhub.content import content_opt_outs_set
from labelhub.models import ProjectMember, Role
from sandbox import runner
from sandbox.models import AuditAttempt
from tests.environment.test_proof_gate import api
from tests.environment.test_review_and_export import authored
from tests.factories import PASSWORD, make_project, make_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not runner.available(), reason="bubblewrap is not installed"),
]


RUBRIC_TASK = copy.deepcopy(INVOICE_TASK)
RUBRIC_TASK["verifier"]["rubric"] = [
    {"claim": "Only open invoices are summed.", "points": 3},
    {"claim": "The ids keep the file's order.", "points": 1},
    {"claim": "The attempt rewrote invoices.csv.", "points": -2},
]


def accepted(capture, result=INVOICE_TASK):
    project, (task,), author, reviewer, manager = authored(capture, tasks=(result,))
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


def test_only_the_projects_reviewers_and_managers_reach_audits(
    client, django_capture_on_commit_callbacks
):
    project, task, _, _, _ = accepted(django_capture_on_commit_callbacks)
    labeller = make_user(organization=project.organization)
    ProjectMember.objects.create(project=project, user=labeller, role=Role.CONTRIBUTOR)
    outsider = make_user()
    make_project(kind="environment", members={outsider: Role.MANAGER})  # another organization
    for person in (labeller, outsider):
        assert api(person).get(f"/api/v1/tasks/{task.pk}/audits/").status_code == 404
        refused = api(person).post(
            f"/api/v1/tasks/{task.pk}/audits/",
            {"attempt": "true", "expected_pass": True},
            format="json",
        )
        assert refused.status_code == 404
        assert api(person).get(f"/api/v1/projects/{project.pk}/audits/").status_code == 404
        client.force_login(person)
        assert client.get(reverse("sandbox:task-audits", args=[task.pk])).status_code == 404
        assert client.get(reverse("sandbox:project-audits", args=[project.pk])).status_code == 404
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


def test_rubric_claims_are_graded_per_attempt_into_a_reward(
    client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    _, task, _, reviewer, manager = accepted(capture, RUBRIC_TASK)
    attempt = audit(
        api(reviewer), task, capture, attempt=RUBRIC_TASK["solution"], expected_pass=True
    ).json()
    url = f"/api/v1/audits/{attempt['id']}/rubric/"

    own = api(reviewer).put(url, {"grades": [True, True, False]}, format="json")
    assert own.status_code == 400
    assert own.json()["grades"] == ["Someone else grades your attempt's rubric."]
    short = api(manager).put(url, {"grades": [True]}, format="json")
    assert short.json()["grades"] == ["Grade every claim: a list of 3 true/false."]
    typed = api(manager).put(url, {"grades": [True, "yes", False]}, format="json")
    assert typed.json()["grades.1"] == ["Met (true) or not met (false)."]

    graded = api(manager).put(url, {"grades": [True, False, True]}, format="json")
    assert graded.status_code == 200, graded.content
    # (3 met − 2 for the named mistake) over the 4 positive points.
    assert graded.json()["rubric_reward"] == 0.25
    assert graded.json()["rubric_grades"] == [True, False, True]

    # On the page: the manager regrades with the checkboxes; the reviewer reads the reward.
    client.login(username=manager.username, password=PASSWORD)
    page_url = reverse("sandbox:task-audits", args=[task.pk])
    assert 'data-testid="audit-rubric-form"' in client.get(page_url).content.decode()
    saved = client.post(page_url, {"grade": attempt["id"], "met": ["0", "1"]})
    assert saved.status_code == 302
    row = AuditAttempt.objects.get(pk=attempt["id"])
    assert (row.rubric_grades, row.rubric_reward) == ([True, True, False], 1.0)
    client.logout()
    client.login(username=reviewer.username, password=PASSWORD)
    shown = client.get(page_url).content.decode()
    assert 'data-testid="audit-rubric-form"' not in shown  # not their own attempt's grader
    assert 'data-testid="audit-rubric-reward">1</strong>' in shown


def test_a_reviewer_who_opted_out_of_a_tasks_content_gets_none_of_its_proofs_or_audits(
    client, django_capture_on_commit_callbacks
):
    """Reviewers have the same content opt-outs as contributors (issue #24, item 4): the
    sandbox's pages by id answer 404, as for a task that does not exist; the manager sees all."""
    capture = django_capture_on_commit_callbacks
    project, (task,), _author, reviewer, manager = authored(capture)
    answer = task.annotations.get()
    Task.objects.filter(pk=task.pk).update(content_flags=1)  # violence
    client.force_login(reviewer)
    proof_url = reverse("sandbox:answer-proof", args=[answer.pk])
    assert client.get(proof_url).status_code == 200
    content_opt_outs_set(organization=project.organization, user=reviewer, names=["violence"])
    assert client.get(proof_url).status_code == 404
    check = client.post(reverse("sandbox:check", args=[task.pk]), {"result": "{}"})
    assert check.status_code == 404
    with capture(execute=True):
        accepted = api(manager).post(
            f"/api/v1/reviews/{task.pk}/", {"verdict": "accept"}, format="json"
        )
    assert accepted.status_code == 200, accepted.content
    assert client.get(reverse("sandbox:task-audits", args=[task.pk])).status_code == 404
    assert api(reviewer).get(f"/api/v1/tasks/{task.pk}/audits/").status_code == 404
    assert api(manager).get(f"/api/v1/tasks/{task.pk}/audits/").status_code == 200
    assert not AuditAttempt.objects.exists()
