"""A judge model grades an RL-environment audit attempt's rubric claims: the claims become its
rubric, the attempt's script, output and file diff its response; the grades are kept beside a
person's (never over them) with the reward by the same rule, and only managers may ask."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from evals import services
from evals.models import JudgeStatus
from labelhub.models import Role
from sandbox import runner
from sandbox.models import AuditAttempt
from tests.environment.test_audits import RUBRIC_TASK, accepted, audit
from tests.environment.test_proof_gate import api
from tests.factories import PASSWORD, make_project, make_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not runner.available(), reason="bubblewrap is not installed"),
]

CLAIM_LINE = re.compile(r"^(c\d+) \(([+-][\d.]+)\): (.+)$", re.M)


class JudgeServer:
    """An OpenAI-compatible judge on loopback: says *met* for every claim but those naming a
    mistake ("rewrote"), or replies nonsense when ``garbage``; keeps the prompts it read."""

    def __init__(self, *, garbage: bool = False) -> None:
        self.prompts: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][-1]["content"]
                outer.prompts.append(prompt)
                verdicts = {
                    cid: {"met": "rewrote" not in text}
                    for cid, _points, text in CLAIM_LINE.findall(prompt)
                }
                reply = "I cannot say." if garbage else json.dumps({"verdicts": verdicts})
                payload = json.dumps(
                    {"choices": [{"message": {"role": "assistant", "content": reply}}]}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "JudgeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def make_judge(organization, base_url: str, name: str = "grader"):
    manager = make_user(organization=organization)
    eval_set = make_project(
        organization=organization, kind="rubric_eval", members={manager: Role.MANAGER}
    )
    return services.judge_save(
        project=eval_set,
        actor=manager,
        values={"name": name, "base_url": base_url, "model": "judge", "max_retries": 0},
    )


@pytest.fixture
def audited(django_capture_on_commit_callbacks, settings):
    """An accepted task with rubric claims, its reviewer's attempt (the solution) run."""
    settings.LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES = True
    capture = django_capture_on_commit_callbacks
    project, task, author, reviewer, manager = accepted(capture, RUBRIC_TASK)
    attempt = audit(
        api(reviewer), task, capture, attempt=RUBRIC_TASK["solution"], expected_pass=True
    ).json()
    return project, task, author, reviewer, manager, attempt["id"]


def judge_it(client, audit_id, judge, capture):
    with capture(execute=True):
        return client.post(
            f"/api/v1/audits/{audit_id}/rubric/judge/", {"judge": judge}, format="json"
        )


def test_a_judge_grades_the_claims_beside_a_persons_grades(
    audited, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    project, _, _, _, manager, audit_id = audited
    graded = api(manager).put(
        f"/api/v1/audits/{audit_id}/rubric/", {"grades": [True, False, False]}, format="json"
    )
    assert graded.json()["rubric_reward"] == 0.75
    with JudgeServer() as server:
        judge = make_judge(project.organization, server.base_url)
        response = judge_it(api(manager), audit_id, judge.pk, capture)
    assert response.status_code == 202, response.content
    assert response.json()["judge_status"] == "queued"
    assert response.json()["rubric_judge"] == "grader v1"

    # The judge read the claims as its rubric and the attempt's diff as the response.
    (prompt,) = server.prompts
    assert "c1 (+3): Only open invoices are summed." in prompt
    assert "c3 (-2): The attempt rewrote invoices.csv." in prompt
    assert "+++ solved/summary.json" in prompt
    row = AuditAttempt.objects.get(pk=audit_id)
    assert row.judge_status == "done"
    assert row.judge_grades == [True, True, False]
    assert row.judge_reward == 1.0  # 4 of 4 positive points, by the kind's grade_claims
    assert row.rubric_judged_by_id == services.judge_current_version(judge=judge).user_id
    # The person's grades are never overwritten: both stay, and they are compared.
    assert (row.rubric_grades, row.rubric_reward) == ([True, False, False], 0.75)
    assert row.rubric_graded_by_id == manager.pk
    shown = api(manager).get(f"/api/v1/tasks/{row.task_id}/audits/").json()["attempts"][0]
    assert shown["rubric_agreement"] == {"claims": 3, "agreeing": 2, "share": 0.6667}
    assert shown["judge_grades"] == [True, True, False]

    # A person grading again leaves the judge's grades as they were.
    api(manager).put(
        f"/api/v1/audits/{audit_id}/rubric/", {"grades": [True, True, False]}, format="json"
    )
    row.refresh_from_db()
    assert (row.judge_grades, row.rubric_agreement["agreeing"]) == ([True, True, False], 3)


def test_a_reply_that_is_no_grading_is_said_on_the_attempt(
    audited, django_capture_on_commit_callbacks
):
    project, _, _, _, manager, audit_id = audited
    with JudgeServer(garbage=True) as server:
        judge = make_judge(project.organization, server.base_url)
        response = judge_it(api(manager), audit_id, judge.pk, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    row = AuditAttempt.objects.get(pk=audit_id)
    assert row.judge_status == "error"
    assert row.judge_error == "The judge's reply holds no JSON object."
    assert row.judge_grades is None


def test_only_managers_ask_and_a_judge_must_be_the_organizations_and_active(
    audited, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    project, _, author, reviewer, manager, audit_id = audited
    judge = make_judge(project.organization, "http://127.0.0.1:9/v1")
    elsewhere = make_project(members={(outsider := make_user()): Role.MANAGER})
    foreign = make_judge(elsewhere.organization, "http://127.0.0.1:9/v1", name="theirs")

    for caller in (author, reviewer, outsider):
        assert judge_it(api(caller), audit_id, judge.pk, capture).status_code == 404
    for bad in (foreign.pk, 10**9, "one", None):
        refused = judge_it(api(manager), audit_id, bad, capture)
        assert refused.status_code == 400, refused.content
        assert "judge" in refused.json()
    assert judge_it(api(manager), audit_id, foreign.pk, capture).json()["judge"] == [
        "Choose a judge model of this organization (the id of one of its judges)."
    ]
    services.judge_stop(judge=judge, reason="fell under the bar on axis:accuracy")
    judge.refresh_from_db()
    assert judge.status == JudgeStatus.STOPPED
    stopped = judge_it(api(manager), audit_id, judge.pk, capture)
    assert stopped.json()["judge"] == [
        "The judge grader is stopped: fell under the bar on axis:accuracy."
    ]
    assert AuditAttempt.objects.get(pk=audit_id).judge_status == ""

    # While one grading waits, another is refused (nothing runs here: no commit callbacks).
    services.judge_resume(judge=judge)
    url = f"/api/v1/audits/{audit_id}/rubric/judge/"
    assert api(manager).post(url, {"judge": judge.pk}, format="json").status_code == 202
    busy = api(manager).post(url, {"judge": judge.pk}, format="json")
    assert busy.status_code == 409
    assert busy.json()["detail"] == "A judge is already grading this attempt: wait for its grades."


def test_the_audits_page_offers_the_judges_to_managers_only(audited, client):
    project, task, _, reviewer, manager, audit_id = audited
    make_judge(project.organization, "http://127.0.0.1:9/v1")
    url = reverse("sandbox:task-audits", args=[task.pk])
    client.login(username=manager.username, password=PASSWORD)
    page = client.get(url).content.decode()
    assert "Grade with judge grader" in page
    assert reverse("evals:audit-judge", args=[audit_id]) in page
    client.logout()
    client.login(username=reviewer.username, password=PASSWORD)
    assert "Grade with judge" not in client.get(url).content.decode()
    refused = client.post(reverse("evals:audit-judge", args=[audit_id]), {"judge": "1"})
    assert refused.status_code == 404
