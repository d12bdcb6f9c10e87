"""A judged eval set shared by the routing tests."""

import pytest
from django.test import override_settings

from evals import services
from evals.models import Response
from labelhub.models import Role
from tests.evals.eval_server import eval_prompts
from tests.evals.helpers import accuracy_only, grade_all, judge_grades, load, scored
from tests.factories import make_project, make_user


@pytest.fixture
def judged_set(django_capture_on_commit_callbacks):
    """15 prompts graded by people and the judge (it passes accuracy, fails communication);
    then 5 mixed prompts (people get only their communication criteria) and 5 accuracy-only
    prompts (the judge grades them alone)."""
    capture = django_capture_on_commit_callbacks
    expert, manager = make_user("expert"), make_user("manager")
    project = make_project(
        kind="rubric_eval",
        members={expert: Role.CONTRIBUTOR, manager: Role.MANAGER},
        quality={"overlap": 1},
    )
    load(project, eval_prompts(15))
    with override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True):
        judge = services.judge_save(
            project=project,
            actor=manager,
            values={"name": "grader", "base_url": "http://127.0.0.1:9/v1", "model": "j",
                    "min_items": 20, "human_share": 0.0},
        )  # fmt: skip
    version = services.judge_current_version(judge=judge)
    assert services.responses_send_to_people(project=project, count=30) == 30
    assert grade_all(capture, project, expert) == 30
    load(project, eval_prompts(20)[15:] + accuracy_only(eval_prompts(25)[20:]))
    judge_grades(version, Response.objects.select_related("item"))
    calibration = services.judge_calibrate(judge=judge)
    assert calibration.passing_tags == ["axis:accuracy"]
    assert calibration.passing_themes == ["theme:test"]
    routed = services.responses_route(project=project)
    assert (routed.people, routed.judge, routed.waiting) == (10, 10, 0)
    assert grade_all(capture, project, expert) == 10
    assert scored(project) == {"good": 25, "bad": 25}
    return project, expert, manager, judge
