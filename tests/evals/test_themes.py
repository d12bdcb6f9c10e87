"""HealthBench's themes are the prompts' ``example_tags``: a judge is calibrated per theme (on
the criteria whose tags it passes), grades a prompt alone only when its themes pass too, and the
leaderboard breaks the scores down per theme."""

import pytest
from django.test import override_settings
from django.urls import reverse

from evals import judging, services
from evals.models import JudgeGrade, PeopleTask, Response
from evals.selectors import leaderboard
from labelhub.models import Role
from tests.evals.eval_server import eval_prompts, judge_reply
from tests.evals.helpers import grade_all, load
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db
WRONG_THEME = "theme:hedging"


def healthbench_rows(start: int, count: int) -> list[dict]:
    """HealthBench-shaped rows: every fifth prompt carries the theme the judge gets wrong."""
    rows = eval_prompts(start + count)[start:]
    for row in rows:
        i = int(row["prompt_id"][1:])
        theme = WRONG_THEME if i % 5 == 0 else "theme:emergency_referrals"
        row["example_tags"] = [theme]
    return rows


def grade_by_judge(version, responses) -> None:
    """The loopback judge's rule (right on accuracy, wrong on communication), and on prompts of
    the wrong theme it gets accuracy wrong too."""
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
        if WRONG_THEME in response.item.example_tags:
            verdicts = {c: {"met": not v["met"]} for c, v in verdicts.items()}
        JudgeGrade.objects.create(response=response, judge_version=version, verdicts=verdicts)


def test_a_judge_wrong_on_one_theme_grades_only_the_other_themes_alone(
    client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    expert, manager = make_user("expert"), make_user("manager")
    project = make_project(
        kind="rubric_eval",
        members={expert: Role.CONTRIBUTOR, manager: Role.MANAGER},
        quality={"overlap": 1},
    )
    load(project, healthbench_rows(0, 30))
    with override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True):
        judge = services.judge_save(
            project=project,
            actor=manager,
            values={"name": "grader", "base_url": "http://127.0.0.1:9/v1", "model": "j",
                    "min_items": 20, "bar": 0.6, "human_share": 0.0},
        )  # fmt: skip
    version = services.judge_current_version(judge=judge)
    services.responses_send_to_people(project=project, count=60)
    assert grade_all(capture, project, expert) == 60
    load(project, healthbench_rows(30, 10))
    grade_by_judge(version, Response.objects.select_related("item"))

    calibration = services.judge_calibrate(judge=judge)
    assert calibration.passing_tags == ["axis:accuracy"]
    themes = calibration.per_theme
    assert set(themes) == {"theme:emergency_referrals", WRONG_THEME}
    # Measured on accuracy criteria only (the tag it passes): 6 prompts × 2 models × 2.
    assert themes[WRONG_THEME]["n"] == 24
    assert themes[WRONG_THEME]["macro_f1"]["value"] == pytest.approx(0.0)
    assert themes["theme:emergency_referrals"]["n"] == 96
    assert themes["theme:emergency_referrals"]["macro_f1"]["value"] == pytest.approx(1.0)
    assert calibration.passing_themes == ["theme:emergency_referrals"]

    routed = services.responses_route(project=project)
    assert (routed.people, routed.judge, routed.waiting) == (20, 0, 0)
    for part in PeopleTask.objects.filter(response__item__key__in=[f"q{i}" for i in range(30, 40)]):
        rubric_tags = {t for c in part.task.data["rubric"] for t in c["tags"]}
        if WRONG_THEME in part.task.data["example_tags"]:  # q30, q35: everything to people
            assert rubric_tags == {"axis:accuracy", "axis:communication"}
        else:  # the judge grades accuracy alone there
            assert rubric_tags == {"axis:communication"}
    assert grade_all(capture, project, expert) == 20

    board = leaderboard(project=project)
    assert board["themes"] == ["theme:emergency_referrals", WRONG_THEME]
    good = next(m for m in board["models"] if m["model"] == "good")
    assert good["scored"] == 40
    assert good["themes"][WRONG_THEME]["n"] == 8
    assert good["themes"]["theme:emergency_referrals"]["n"] == 32
    by_theme = {}
    for response in Response.objects.filter(model_name="good").select_related("item"):
        by_theme.setdefault(response.item.example_tags[0], []).append(response.score)
    for theme, values in by_theme.items():
        assert good["themes"][theme]["value"] == pytest.approx(sum(values) / len(values))
        assert good["themes"][theme]["low"] <= good["themes"][theme]["value"]

    client.force_login(manager)
    page = client.get(reverse("evals:leaderboard", args=[project.pk])).content.decode()
    assert 'data-testid="theme-table"' in page
    judges_page = client.get(reverse("evals:judges", args=[project.pk])).content.decode()
    assert f'data-theme="{WRONG_THEME}"' in judges_page
    hedging = themes[WRONG_THEME]["macro_f1"]
    assert (
        f'aria-label="{hedging["value"]:.3f}, 95% interval {hedging["low"]:.3f} to '
        f'{hedging["high"]:.3f}; the bar is 0.60"'
    ) in judges_page
