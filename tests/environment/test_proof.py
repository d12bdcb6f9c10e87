"""The proof, run by the kind through the real sandbox: each run's reward and reason."""

import copy

import pytest
from django.core.exceptions import ValidationError

from kinds.environment.demo import INVOICE_TASK, SHELL_TASK
from kinds.environment.kind import EnvironmentKind
from sandbox import runner
from sandbox.services import BwrapSandbox

pytestmark = pytest.mark.skipif(not runner.available(), reason="bubblewrap is not installed")

KIND = EnvironmentKind()
SCHEMA = KIND.clean_schema({**KIND.default_schema(), "limits": {"seconds": 3}})


def prove(result):
    cleaned = KIND.clean_result(result, schema=SCHEMA, data={})
    report = KIND.prove(cleaned, schema=SCHEMA, data={}, sandbox=BwrapSandbox(memory_mb=256))
    return report, {run.run: run for run in report.runs}


def with_script(code: str) -> dict:
    result = copy.deepcopy(SHELL_TASK)
    result["verifier"]["script"]["code"] = code
    return result


def test_the_demo_task_is_proven_run_by_run():
    report, runs = prove(INVOICE_TASK)
    assert report.holds
    assert (runs["solution"].reward, runs["wrong_attempt"].reward) == (1.0, 0.0)
    assert runs["repeat"].reward == 1.0
    assert [line["passed"] for line in runs["wrong_attempt"].details["checks"]] == [False, False]
    assert runs["solution"].details["changes"][0]["file"] == "summary.json"


def test_a_verifier_past_its_time_is_stopped_and_says_why():
    report, runs = prove(with_script("sleep 30"))
    assert not report.holds
    assert runs["solution"].status == "stopped"
    assert "ran past its time limit of 3 s" in runs["solution"].reason
    assert runs["solution"].seconds < 6


def test_a_verifier_that_reaches_for_the_network_fails_and_says_why():
    script = (
        "python3 -c 'import urllib.request; urllib.request.urlopen(\"http://1.1.1.1\", timeout=2)'"
        ' && echo 1 > "$REWARD_FILE"'
    )
    report, runs = prove(with_script(script))
    assert not report.holds
    assert runs["solution"].reward == 0.0  # the script failed: its exit code decides
    assert "Network is unreachable" in runs["solution"].output


def test_a_flaky_verifier_is_refused():
    result = with_script('echo "0.$(date +%N)" > "$REWARD_FILE"')
    result["pass_mark"] = 0.01
    report, runs = prove(result)
    assert not report.holds
    assert runs["repeat"].passed is False
    assert runs["repeat"].reason.startswith("Flaky: the same state gave")


def test_a_solution_that_fails_is_the_reason():
    result = copy.deepcopy(SHELL_TASK)
    result["solution"] = "exit 3"
    report, runs = prove(result)
    assert not report.holds
    assert runs["solution"].reason.startswith(
        "The solution itself failed. Failed: exited with code 3"
    )


FLOOD = "for i in $(seq 1 40); do head -c 2000000 /dev/zero > /app/f$i.bin; done; exit 0"


def test_a_verifier_that_fills_the_disk_is_stopped_and_says_why():
    result = with_script(FLOOD)
    cleaned = KIND.clean_result(result, schema=SCHEMA, data={})
    report = KIND.prove(
        cleaned, schema=SCHEMA, data={}, sandbox=BwrapSandbox(memory_mb=256, disk_mb=16)
    )
    runs = {run.run: run for run in report.runs}
    assert not report.holds
    assert runs["solution"].status == "stopped"
    assert "disk limit of 16 MB reached" in runs["solution"].reason


@pytest.mark.django_db
def test_the_projects_disk_limit_reaches_the_sandbox(django_capture_on_commit_callbacks):
    """Through the API's Check: the schema's ``limits.disk_mb`` is the run's disk limit."""
    from tests.environment.helpers import make_environment_project
    from tests.environment.test_proof_gate import api, check, claim

    project, (task,), author, _, _ = make_environment_project()
    project.schema = KIND.clean_schema({**project.schema, "limits": {"disk_mb": 16}})
    project.save(update_fields=["schema"])
    client = api(author)
    claim(client, project)
    proof = check(client, task, with_script(FLOOD), django_capture_on_commit_callbacks)
    runs = {run["run"]: run for run in proof["runs"]}
    assert proof["holds"] is False
    assert "solution" in runs, proof
    assert "disk limit of 16 MB reached" in runs["solution"]["reason"]


def test_the_disk_limit_is_a_checked_schema_limit():
    assert KIND.default_schema()["limits"]["disk_mb"] == 100
    with pytest.raises(ValidationError) as refused:
        KIND.clean_schema({**KIND.default_schema(), "limits": {"disk_mb": 4}})
    assert refused.value.message_dict == {"limits.disk_mb": ["A whole number from 16 to 10240."]}
