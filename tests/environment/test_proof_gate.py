"""Submit is refused until the proof of exactly the submitted content holds: through the API and
the work screen, for a verifier that passes the wrong attempt or fails the solution."""

import copy
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.models import Annotation
from kinds.environment.demo import INVOICE_TASK, SHELL_TASK
from labelhub.accounts import api_token_issue
from sandbox import runner
from sandbox.models import Proof, ProofRun
from tests.environment.helpers import make_environment_project
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not runner.available(), reason="bubblewrap is not installed"),
]

PASSES_WRONG = copy.deepcopy(INVOICE_TASK)
PASSES_WRONG["verifier"]["checks"] = [{"file": "summary.json", "op": "exists", "value": True}]
FAILS_SOLUTION = copy.deepcopy(INVOICE_TASK)
FAILS_SOLUTION["verifier"]["checks"][0]["value"] = 999


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user).key}")
    return client


def claim(client, project) -> int:
    response = client.post(f"/api/v1/projects/{project.pk}/next/")
    assert response.status_code == 200
    return response.json()["assignment"]["id"]


def check(client, task, result, capture) -> dict:
    with capture(execute=True):
        response = client.post(
            f"/api/v1/tasks/{task.pk}/proofs/", {"result": result}, format="json"
        )
    assert response.status_code == 202, response.content
    proof = client.get(f"/api/v1/proofs/{response.json()['id']}/")
    assert proof.status_code == 200
    return proof.json()


def submit(client, assignment_id, result):
    return client.post(
        f"/api/v1/assignments/{assignment_id}/submit/",
        {"result": result, "active_seconds": 60},
        format="json",
    )


def test_api_refuses_a_submit_until_the_proof_holds(django_capture_on_commit_callbacks):
    project, (task,), author, _, _ = make_environment_project()
    client = api(author)
    assignment_id = claim(client, project)

    unchecked = submit(client, assignment_id, INVOICE_TASK)
    assert unchecked.status_code == 400
    assert "Check it first" in unchecked.json()["result.proof"][0]

    proof = check(client, task, PASSES_WRONG, django_capture_on_commit_callbacks)
    assert proof["status"] == "done"
    assert proof["holds"] is False
    runs = {run["run"]: run for run in proof["runs"]}
    assert runs["solution"]["reward"] == 1.0
    assert runs["wrong_attempt"]["reward"] == 1.0
    assert runs["wrong_attempt"]["passed"] is False
    assert "passes the wrong attempt" in runs["wrong_attempt"]["reason"]
    refused = submit(client, assignment_id, PASSES_WRONG)
    assert refused.status_code == 400
    assert "passes the wrong attempt" in refused.json()["result.proof"][0]

    proof = check(client, task, FAILS_SOLUTION, django_capture_on_commit_callbacks)
    assert proof["holds"] is False
    assert "fails the reference solution" in " ".join(proof["reasons"])
    assert submit(client, assignment_id, FAILS_SOLUTION).status_code == 400
    assert not Annotation.objects.exists()

    proof = check(client, task, INVOICE_TASK, django_capture_on_commit_callbacks)
    assert proof["holds"] is True, proof
    assert [run["run"] for run in proof["runs"]] == ["solution", "wrong_attempt", "repeat"]
    changed = {**INVOICE_TASK, "instruction": INVOICE_TASK["instruction"] + " Quickly."}
    assert submit(client, assignment_id, changed).status_code == 400  # not what was proven
    accepted = submit(client, assignment_id, INVOICE_TASK)
    assert accepted.status_code == 201, accepted.content
    stored = Annotation.objects.get().result["verifier"]["checks"]
    assert [c["value"] for c in stored] == [105.25, [2, 3]]
    assert Proof.objects.filter(assignment_id=assignment_id, holds=True).count() == 1


def test_a_check_of_a_malformed_answer_is_refused_with_its_field(
    django_capture_on_commit_callbacks,
):
    project, (task,), author, _, _ = make_environment_project()
    client = api(author)
    claim(client, project)
    bad = copy.deepcopy(INVOICE_TASK)
    bad["verifier"]["checks"][1]["op"] = "roughly"
    response = client.post(f"/api/v1/tasks/{task.pk}/proofs/", {"result": bad}, format="json")
    assert response.status_code == 400
    assert "result.verifier.checks.1.op" in response.json()
    assert not Proof.objects.exists()


def test_only_the_lease_holder_or_a_reviewer_may_check(django_capture_on_commit_callbacks):
    project, (task,), author, reviewer, _ = make_environment_project()
    stranger_project, _, stranger, _, _ = make_environment_project()
    response = api(stranger).post(
        f"/api/v1/tasks/{task.pk}/proofs/", {"result": INVOICE_TASK}, format="json"
    )
    assert response.status_code == 404
    assert stranger_project.pk != project.pk
    proof = check(api(reviewer), task, SHELL_TASK, django_capture_on_commit_callbacks)
    assert proof["holds"] is True
    assert api(author).get(f"/api/v1/proofs/{proof['id']}/").status_code == 404


def test_the_work_screen_refuses_submit_until_the_proof_holds(
    client, django_capture_on_commit_callbacks
):
    project, (task,), author, _, _ = make_environment_project()
    client.login(username=author.username, password=PASSWORD)
    client.post(reverse("annotation:work-next", args=[project.pk]), HTTP_HX_REQUEST="true")
    assignment = author.assignments.get()
    submit_url = reverse("annotation:work-submit", args=[project.pk, assignment.pk])
    check_url = reverse("sandbox:check", args=[task.pk])

    with django_capture_on_commit_callbacks(execute=True):
        panel = client.post(check_url, {"result": json.dumps(PASSES_WRONG)}, HTTP_HX_REQUEST="true")
    assert panel.status_code == 200
    proof = Proof.objects.get()
    shown = client.get(reverse("sandbox:proof", args=[proof.pk]), HTTP_HX_REQUEST="true")
    page = shown.content.decode()
    assert "The proof does not hold." in page
    assert 'data-run="wrong_attempt" data-passed="false"' in page
    assert "hx-trigger" not in page  # done: no more polling

    refused = client.post(
        submit_url,
        {"result": json.dumps(PASSES_WRONG), "active_seconds": "30"},
        HTTP_HX_REQUEST="true",
    )
    assert refused.status_code == 422
    assert "passes the wrong attempt" in refused.content.decode()
    assert not Annotation.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(check_url, {"result": json.dumps(INVOICE_TASK)}, HTTP_HX_REQUEST="true")
    done = client.post(
        submit_url,
        {"result": json.dumps(INVOICE_TASK), "active_seconds": "30"},
        HTTP_HX_REQUEST="true",
    )
    assert done.status_code == 200
    assert Annotation.objects.count() == 1
    assert ProofRun.objects.filter(proof__holds=True).count() == 3


def test_a_check_without_a_lease_or_review_role_is_not_found(client):
    _, (task,), author, _, _ = make_environment_project()
    client.login(username=author.username, password=PASSWORD)
    response = client.post(
        reverse("sandbox:check", args=[task.pk]), {"result": json.dumps(INVOICE_TASK)}
    )
    assert response.status_code == 404


def test_a_person_has_at_most_three_proofs_waiting():
    project, (task,), author, _, _ = make_environment_project()
    client = api(author)
    claim(client, project)
    for n in range(3):
        Proof.objects.create(
            project=project, task=task, requested_by=author, content_key=f"k{n}", result={}
        )
    response = client.post(
        f"/api/v1/tasks/{task.pk}/proofs/", {"result": INVOICE_TASK}, format="json"
    )
    assert response.status_code == 400
    assert "3 of your proofs are still waiting" in response.json()["proof"][0]
    assert Proof.objects.count() == 3
