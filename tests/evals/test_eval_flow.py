"""The whole eval loop against a real OpenAI-compatible server on loopback: two models answer,
people grade a sample, a judge is calibrated per tag (right on accuracy, wrong on
communication), grades alone only where it passes, and the leaderboard ranks the models."""

import orjson
import pytest
from django.test import override_settings

from annotation import queue
from annotation.models import Task
from evals import services
from evals.models import Calibration, EvalRun, JudgeGrade, Response, Route, RunStatus
from evals.selectors import leaderboard
from kinds.rubric_eval import formats
from labelhub.models import Role
from tests.evals.eval_server import EvalServer, eval_prompts, truth
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db
PROMPTS = 30


def grade_all(capture, project, person) -> int:
    """The expert grades every task in their queue truthfully; how many."""
    graded = 0
    while True:
        with capture(execute=True):
            assignment = queue.assignment_claim_next(project=project, contributor=person)
            if assignment is None:
                return graded
            task = Task.objects.get(pk=assignment.task_id)
            queue.annotation_submit(
                assignment_id=assignment.pk, contributor=person, result=truth(task.data)
            )
        graded += 1


@pytest.fixture
def eval_set():
    expert, manager = make_user("expert"), make_user("manager")
    project = make_project(
        kind="rubric_eval",
        members={expert: Role.CONTRIBUTOR, manager: Role.MANAGER},
        quality={"overlap": 1},
    )
    lines = [orjson.dumps(row) for row in eval_prompts(PROMPTS)]
    services.items_import(project=project, prompts=formats.healthbench_read(lines))
    return project, expert, manager


@override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True)
def test_models_answer_people_calibrate_the_judge_and_the_leaderboard_ranks_them(
    eval_set, django_capture_on_commit_callbacks
):
    project, expert, manager = eval_set
    capture = django_capture_on_commit_callbacks
    with EvalServer() as server:
        good, bad = (
            services.eval_model_save(
                project=project,
                values={"name": name, "version": "v1", "base_url": server.base_url,
                        "model": name, "price_input": 1.0, "price_output": 2.0, "concurrency": 3},
            )
            for name in ("good", "bad")
        )  # fmt: skip
        with capture(execute=True):
            run = services.run_create(project=project, actor=manager, eval_models=[good, bad])
        run.refresh_from_db()
        assert (run.status, run.total, run.done, run.failed) == (RunStatus.DONE, 60, 60, 0)
        assert Response.objects.filter(project=project).count() == 60
        first = Response.objects.filter(model_name="good").first()
        assert first.completion_tokens == 20
        assert first.latency_ms is not None
        assert first.cost == pytest.approx((first.prompt_tokens * 1.0 + 20 * 2.0) / 1e6)

        # People grade a sample first, so the judge can be measured.
        sent = services.responses_send_to_people(project=project, count=40, seed=1)
        assert sent == 40
        assert "good" not in str(Task.objects.filter(project=project).first().data)  # blind
        assert grade_all(capture, project, expert) == 40

        judge = services.judge_save(
            project=project,
            actor=manager,
            values={"name": "grader", "base_url": server.base_url, "model": "judge",
                    "bar": 0.75, "min_items": 30, "human_share": 0.0},
        )  # fmt: skip
        with capture(execute=True):
            judge_run = services.judge_run_create(judge=judge, actor=manager)
        judge_run.refresh_from_db()
        assert (judge_run.status, judge_run.done) == (RunStatus.DONE, 60)
        assert JudgeGrade.objects.filter(error="").count() == 60

    calibration = Calibration.objects.get()
    accuracy = calibration.per_tag["axis:accuracy"]
    communication = calibration.per_tag["axis:communication"]
    assert accuracy["passes"]
    assert accuracy["macro_f1"]["low"] >= 0.75
    assert accuracy["kappa"]["value"] == pytest.approx(1.0)
    assert not communication["passes"]
    assert communication["macro_f1"]["value"] < 0.5
    assert calibration.passing_tags == ["axis:accuracy"]
    assert calibration.worst_tag == "axis:communication"

    # The 20 responses people had not seen: the judge grades accuracy alone, people the rest.
    rest = Response.objects.filter(project=project, people_tasks__isnull=False).exclude(
        people_tasks__task__in=Task.objects.filter(annotations__isnull=False)
    )
    assert rest.count() == 20
    for response in rest:
        (part,) = response.people_tasks.select_related("task")
        tags = {t for c in part.task.data["rubric"] for t in c["tags"]}
        assert tags == {"axis:communication"}
    assert not Response.objects.filter(route=Route.WAITING).exists()
    late = rest.first()
    assert grade_all(capture, project, expert) == 20

    board = leaderboard(project=project)
    first, second = board["models"]
    assert (first["model"], second["model"]) == ("good", "bad")
    assert first["scored"] == second["scored"] == PROMPTS
    assert first["score"]["low"] > second["score"]["high"]  # intervals do not overlap
    assert board["pairs"][0]["distinguishable"]
    assert set(first["tags"]) == {"axis:accuracy", "axis:communication"}
    assert first["cost"] > 0
    assert first["latency_ms"]["median"] >= 0
    # The final verdicts mix the judge's (accuracy) and the people's (communication).
    late.refresh_from_db()
    by = [late.verdicts[c["id"]].get("by") for c in late.item.rubric]
    assert by == ["judge", "judge", None, None]
    assert EvalRun.objects.count() == 2
