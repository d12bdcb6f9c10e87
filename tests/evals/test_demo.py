"""The demo's eval set: a dozen prompts with rubrics, two versions' responses, some graded."""

import pytest

from evals.demo import seed_eval_set
from evals.models import EvalItem, Response
from evals.selectors import leaderboard
from kinds.rubric_eval import demo
from tests.factories import make_organization, make_user

pytestmark = pytest.mark.django_db


def test_the_demo_eval_set_has_prompts_two_versions_and_grades():
    organization = make_organization()
    manager, expert = make_user("maria"), make_user("ana")
    project = seed_eval_set(organization=organization, manager=manager, experts=[expert])
    assert EvalItem.objects.filter(project=project).count() == 12
    assert Response.objects.filter(project=project).count() == 24
    board = leaderboard(project=project)
    newest, oldest = board["models"]
    assert (newest["version"], oldest["version"]) == (demo.NEW, demo.OLD)
    assert newest["scored"] == oldest["scored"] == len(demo.GRADES)
    assert newest["score"]["value"] > oldest["score"]["value"]
    fever = Response.objects.get(item__key="fever-child", version=demo.OLD)
    assert fever.score == 0.0  # fluids (+4) and aspirin (-9) over 17 points: clipped
    assert seed_eval_set(organization=organization, manager=manager, experts=[expert]) is None
