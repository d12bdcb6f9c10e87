"""The calibration's statistics: intervals resample whole responses, the worst tag is named
among tags with enough items, and the leaderboard says it makes no multiple-comparison
correction."""

import pytest
from django.test import override_settings

from evals import services
from evals.models import JudgeGrade, Response
from evals.selectors import leaderboard
from kinds.rubric_eval import metrics
from labelhub.models import Role
from tests.evals.eval_server import eval_prompts, truth
from tests.evals.helpers import grade_all, load
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db
RARE = "axis:rare"


def test_the_worst_tag_has_enough_items_and_intervals_resample_responses(
    django_capture_on_commit_callbacks,
):
    expert, manager = make_user("expert"), make_user("manager")
    project = make_project(
        kind="rubric_eval",
        members={expert: Role.CONTRIBUTOR, manager: Role.MANAGER},
        quality={"overlap": 1},
    )
    rows = eval_prompts(15)
    rows[0]["rubrics"][0]["tags"].append(RARE)  # one criterion of one prompt: 2 items
    load(project, rows)
    with override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True):
        judge = services.judge_save(
            project=project,
            actor=manager,
            values={"name": "grader", "base_url": "http://127.0.0.1:9/v1", "model": "j",
                    "min_items": 20, "human_share": 0.0},
        )  # fmt: skip
    version = services.judge_current_version(judge=judge)
    services.responses_send_to_people(project=project, count=30)
    grade_all(django_capture_on_commit_callbacks, project, expert)
    # The judge agrees with the experts everywhere but on the rare tag's two items.
    for response in Response.objects.select_related("item"):
        data = {"rubric": response.item.rubric, "response": response.text}
        verdicts = truth(data)["verdicts"]
        for criterion in response.item.rubric:
            if RARE in criterion["tags"]:
                verdicts[criterion["id"]] = {"met": not verdicts[criterion["id"]]["met"]}
        JudgeGrade.objects.create(response=response, judge_version=version, verdicts=verdicts)

    calibration = services.judge_calibrate(judge=judge)
    assert calibration.per_tag[RARE]["n"] == 2
    assert calibration.per_tag[RARE]["macro_f1"]["value"] < 0.5  # the lowest, but 2 items
    assert calibration.worst_tag == "axis:accuracy"  # the lowest of the tags with 20+ items

    # The overall interval is the cluster bootstrap over responses, not over single items.
    truth_all, guess_all, groups = [], [], []
    for grade in JudgeGrade.objects.select_related("response__item").order_by("pk"):
        mine = truth({"rubric": grade.response.item.rubric, "response": grade.response.text})
        for criterion in grade.response.item.rubric:
            truth_all.append(mine["verdicts"][criterion["id"]]["met"])
            guess_all.append(grade.verdicts[criterion["id"]]["met"])
            groups.append(grade.response_id)
    clustered = metrics.bootstrap_agreement(truth_all, guess_all, groups=groups)
    assert calibration.overall["macro_f1"] == pytest.approx(clustered.macro_f1.as_dict())
    assert calibration.overall["n"] == 120

    board = leaderboard(project=project)
    assert "no correction for multiple comparisons" in board["method"]
    assert "(1 pairs here;" in board["method"]
