"""The proof, run by the kind through the real sandbox: each run's reward and reason."""

import copy

import pytest

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
