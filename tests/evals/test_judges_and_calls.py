"""Judges between calibrations (a tag that falls below the bar stops the judge, with the reason;
the human share stays with people), what a judge's reply means, and how calls are retried."""

import threading
import time
from types import SimpleNamespace

import orjson
import pytest
from django.test import override_settings

from annotation import queue
from annotation.models import ContributorStatus, ProjectContributor, Task
from evals import calls, judging, services
from evals.models import JudgeGrade, JudgeStatus, Response
from genai.client import Completion, ModelFailed
from kinds.rubric_eval import formats
from labelhub.models import Role
from tests.evals.eval_server import bad_answer, eval_prompts, good_answer, judge_reply, truth
from tests.factories import make_project, make_user

RUBRIC = [
    {"id": "c1", "criterion": "Names the dose", "points": 5, "tags": []},
    {"id": "c2", "criterion": "Says aspirin", "points": -5, "tags": []},
]


def make_eval_set(prompts: int, start: int = 0):
    expert, manager = make_user(), make_user()
    project = make_project(
        kind="rubric_eval",
        members={expert: Role.CONTRIBUTOR, manager: Role.MANAGER},
        quality={"overlap": 1},
    )
    add_responses(project, prompts, start)
    return project, expert, manager


def add_responses(project, prompts: int, start: int) -> None:
    rows = [orjson.dumps(r) for r in eval_prompts(start + prompts)[start:]]
    services.items_import(project=project, prompts=formats.healthbench_read(rows))
    services.responses_import(
        project=project,
        rows=[
            {"task": f"q{i}", "model": model, "response": answer(i)}
            for i in range(start, start + prompts)
            for model, answer in (("good", good_answer), ("bad", bad_answer))
        ],
    )


def grade_all(project, expert) -> None:
    while assignment := queue.assignment_claim_next(project=project, contributor=expert):
        task = Task.objects.get(pk=assignment.task_id)
        queue.annotation_submit(
            assignment_id=assignment.pk, contributor=expert, result=truth(task.data)
        )


def judge_grades(version, responses, *, wrong_on_accuracy: bool = False) -> None:
    for response in responses:
        text = judging.render(
            version.template,
            prompt=response.item.prompt,
            rubric=response.item.rubric,
            response=response.text,
        )
        verdicts = judging.parse(
            judge_reply(text), rubric=response.item.rubric, response=response.text
        )
        if wrong_on_accuracy:
            for criterion in response.item.rubric:
                if "axis:accuracy" in criterion["tags"]:
                    verdicts[criterion["id"]] = {"met": not verdicts[criterion["id"]]["met"]}
        JudgeGrade.objects.create(response=response, judge_version=version, verdicts=verdicts)


@pytest.mark.django_db(transaction=True)  # the quality step runs after each submit commits
def test_a_judge_that_falls_below_the_bar_on_a_tag_is_stopped_with_the_reason():
    project, expert, manager = make_eval_set(15)
    with override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True):
        judge = services.judge_save(
            project=project,
            actor=manager,
            values={"name": "grader", "base_url": "http://127.0.0.1:9/v1", "model": "j",
                    "min_items": 20, "human_share": 0.0},
        )  # fmt: skip
    version = services.judge_current_version(judge=judge)
    services.responses_send_to_people(project=project, count=30)
    grade_all(project, expert)
    judge_grades(version, Response.objects.select_related("item"))
    first = services.judge_calibrate(judge=judge)
    assert first.passing_tags == ["axis:accuracy"]

    # New prompts, graded by both: now the judge gets accuracy wrong.
    add_responses(project, 15, start=15)
    fresh = Response.objects.filter(people_tasks__isnull=True).select_related("item")
    judge_grades(version, fresh, wrong_on_accuracy=True)
    services.responses_send_to_people(project=project, count=fresh.count())
    grade_all(project, expert)
    # People's grades on what the judge graded measure it again (the quality step's hook): it
    # is stopped as soon as accuracy falls under the bar, before anyone clicks Calibrate.
    judge.refresh_from_db()
    assert judge.status == JudgeStatus.STOPPED
    stopping = next(c for c in version.calibrations.order_by("pk") if not c.passing_tags)
    second = services.judge_calibrate(judge=judge)
    assert second.passing_tags == []
    accuracy = stopping.per_tag["axis:accuracy"]
    assert judge.stop_reason.startswith("Stopped on ")
    assert (
        f"on axis:accuracy its macro-F1 against the experts fell to "
        f"{accuracy['macro_f1']['value']:.2f}" in judge.stop_reason
    )
    assert "under the bar of 0.75" in judge.stop_reason
    standing = ProjectContributor.objects.get(user=version.user, project=project)
    assert standing.status == ContributorStatus.PAUSED
    assert standing.pause_reason == judge.stop_reason
    assert services.gates_for(project=project) == []


def test_the_human_share_is_a_stable_draw_of_about_that_share():
    kept = [services.kept_for_people(i, 0.1) for i in range(1, 20_001)]
    assert 0.09 < sum(kept) / len(kept) < 0.11
    assert kept == [services.kept_for_people(i, 0.1) for i in range(1, 20_001)]
    assert not any(services.kept_for_people(i, 0.0) for i in range(1, 1000))


def test_a_gate_covers_a_criterion_only_when_every_tag_passes():
    gate = services.Gate(1, frozenset({"axis:accuracy", services.UNTAGGED}))
    assert gate.covers({"tags": ["axis:accuracy"]})
    assert gate.covers({"tags": []})
    assert not gate.covers({"tags": ["axis:accuracy", "theme:emergency"]})
    themed = services.Gate(1, frozenset({"axis:accuracy"}), frozenset({"theme:a"}))
    assert themed.covers({"tags": ["axis:accuracy"]}, ["theme:a"])
    assert themed.covers({"tags": ["axis:accuracy"]}, [])
    assert not themed.covers({"tags": ["axis:accuracy"]}, ["theme:a", "theme:b"])


def test_a_judges_reply_is_read_and_a_quote_not_in_the_response_is_dropped():
    reply = 'Sure! {"verdicts": {"c1": {"met": true, "evidence": "Take 5 ml"}, "c2": false}}'
    verdicts = judging.parse(reply, rubric=RUBRIC, response="Take  5 ml twice a day.")
    assert verdicts == {"c1": {"met": True, "evidence": "Take 5 ml"}, "c2": {"met": False}}
    made_up = '{"c1": {"met": true, "evidence": "aspirin"}, "c2": {"met": false}}'
    assert judging.parse(made_up, rubric=RUBRIC, response="Take 5 ml.")["c1"] == {"met": True}
    with pytest.raises(judging.GradeUnreadable, match="no true/false verdict for c2"):
        judging.parse('{"c1": true}', rubric=RUBRIC, response="x")
    with pytest.raises(judging.GradeUnreadable, match="no JSON object"):
        judging.parse("I think it is fine.", rubric=RUBRIC, response="x")
    assert judging.template_errors("no placeholders") == [
        "The prompt must contain {{conversation}}, {{response}}, {{rubric}} (filled in for "
        "each response)."
    ]


def endpoint(**limits) -> SimpleNamespace:
    values = {"endpoint": "http://127.0.0.1:9/v1/chat/completions", "model": "m", "api_key": "",
              "temperature": 0.0, "max_tokens": 10, "timeout_seconds": 5, "max_retries": 2,
              "concurrency": 2, "requests_per_minute": 60_000}  # fmt: skip
    return SimpleNamespace(**{**values, **limits})


def failing(*statuses):
    """A send that fails with these HTTP statuses (None: no answer), then answers."""
    left = list(statuses)
    tries = []

    def send(request):
        tries.append(request)
        if left:
            failure = ModelFailed("down")
            failure.status = left.pop(0)
            raise failure
        return Completion(text="ok", prompt_tokens=3, completion_tokens=1)

    return send, tries


def test_busy_and_broken_endpoints_are_tried_again_and_a_refusal_is_final(monkeypatch):
    monkeypatch.setattr(calls.time, "sleep", lambda seconds: None)
    call = calls.Call(key=1, endpoint=endpoint(), messages=[{"role": "user", "content": "hi"}])
    send, tries = failing(503, None)
    outcome = calls.call_once(call, calls.RateLimit(60_000), send=send)
    assert (outcome.completion.text, outcome.attempts, len(tries)) == ("ok", 3, 3)
    send, tries = failing(429, 500, 502)
    outcome = calls.call_once(call, calls.RateLimit(60_000), send=send)
    assert (outcome.completion, outcome.error, outcome.attempts) == (None, "down", 3)
    send, tries = failing(401)
    outcome = calls.call_once(call, calls.RateLimit(60_000), send=send)
    assert (outcome.completion, outcome.attempts) == (None, 1)


def test_the_rate_limit_spaces_calls_evenly():
    limit = calls.RateLimit(600)  # one call every 0.1 s
    began = time.monotonic()
    for _ in range(4):
        limit.wait()
    assert 0.28 < time.monotonic() - began < 0.6


def test_calls_run_at_most_concurrency_at_once_per_endpoint():
    running, peak = [0], [0]
    lock = threading.Lock()

    def send(request):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return Completion(text="ok", prompt_tokens=1, completion_tokens=1)

    shared = endpoint(concurrency=3)
    jobs = [calls.Call(key=i, endpoint=shared, messages=[]) for i in range(12)]
    outcomes = list(calls.call_all(jobs, send=send))
    assert sorted(o.call.key for o in outcomes) == list(range(12))
    assert peak[0] == 3
