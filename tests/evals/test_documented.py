"""What docs/evals.md promises and no other test checked: a judge grading whole responses
alone, the human share kept with people when routing, the address guard and key handling for
connected models and judges, and a new template version calibrated afresh."""

import orjson
import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from evals import judging, services
from evals.models import EvalModel, EvalRun, Judge, JudgeGrade, Response, Route, RunStatus
from evals.selectors import judge_summary
from kinds.rubric_eval import formats
from labelhub.models import Role
from tests.evals.eval_server import EvalServer, eval_prompts, truth
from tests.evals.helpers import grade_all, judge_grades, load
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


def test_a_judge_grades_alone_every_response_whose_criteria_it_all_passes(judged_set):
    _project, _expert, _manager, judge = judged_set
    alone = Response.objects.filter(route=Route.JUDGE).select_related("item")
    assert alone.count() == 10
    version = services.judge_current_version(judge=judge)
    for response in alone:
        assert not response.people_tasks.exists()
        assert {c["id"] for c in response.item.rubric} == set(response.verdicts)
        assert all(v["by"] == "judge" for v in response.verdicts.values())
        grade = JudgeGrade.objects.get(response=response, judge_version=version).verdicts
        assert {c: v["met"] for c, v in response.verdicts.items()} == {
            c: v["met"] for c, v in grade.items()
        }
        assert response.score is not None


def test_the_human_share_goes_to_people_whole_and_the_rest_is_split(
    django_capture_on_commit_callbacks,
):
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
                    "min_items": 20, "human_share": 0.5},
        )  # fmt: skip
    version = services.judge_current_version(judge=judge)
    services.responses_send_to_people(project=project, count=30)
    grade_all(capture, project, expert)
    load(project, eval_prompts(45)[15:])
    judge_grades(version, Response.objects.select_related("item"))
    assert services.judge_calibrate(judge=judge).passing_tags == ["axis:accuracy"]
    fresh = list(Response.objects.filter(route=Route.WAITING))
    kept = {r.pk for r in fresh if services.kept_for_people(r.pk, 0.5)}
    assert 10 < len(kept) < 50  # a draw of about half of the 60

    routed = services.responses_route(project=project)
    assert (routed.people, routed.judge, routed.waiting) == (60, 0, 0)
    for response in Response.objects.filter(pk__in=[r.pk for r in fresh]).select_related("item"):
        (part,) = response.people_tasks.all()
        whole = {c["id"] for c in response.item.rubric}
        if response.pk in kept:
            assert set(part.criteria) == whole  # the share: everything, for ever
        else:
            tags = {t for c in part.task.data["rubric"] for t in c["tags"]}
            assert tags == {"axis:communication"}
    # Routing again changes nothing: the share stays with people.
    assert services.responses_route(project=project) == services.Routed(0, 0, 0)


def test_connected_models_and_judges_keep_off_private_addresses_and_never_show_their_key():
    manager = make_user("manager")
    project = make_project(kind="rubric_eval", members={manager: Role.MANAGER})
    api = APIClient()
    api.force_authenticate(manager)
    base = f"/api/v1/projects/{project.pk}/evals"
    for url, values in (
        (f"{base}/models/", {"name": "m", "model": "m"}),
        (f"{base}/judges/", {"name": "j", "model": "j"}),
    ):
        for private in ("http://127.0.0.1:8000/v1", "http://10.0.0.7/v1", "http://[::1]/v1"):
            refused = api.post(url, {**values, "base_url": private}, format="json")
            assert refused.status_code == 400, private
            assert "calls to the model only go to public addresses" in refused.json()["base_url"][0]
    assert not EvalModel.objects.exists()
    assert not Judge.objects.exists()

    with override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True):
        model = api.post(
            f"{base}/models/",
            {"name": "m", "model": "m", "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-123"},
            format="json",
        )
        judge = api.post(
            f"{base}/judges/",
            {"name": "j", "model": "j", "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-456"},
            format="json",
        )
    assert (model.status_code, judge.status_code) == (201, 201)
    listed = [
        api.get(f"{base}/models/").content,
        api.get(f"{base}/judges/").content,
        api.get(f"{base}/judges/{judge.json()['id']}/").content,
    ]
    for body in [model.content, judge.content, *listed]:
        assert b"sk-123" not in body
        assert b"sk-456" not in body
    assert model.json()["has_api_key"] is True
    assert judge.json()["has_api_key"] is True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_key FROM evals_evalmodel UNION ALL SELECT api_key FROM evals_judge"
        )
        stored = [row[0] for row in cursor.fetchall()]
    assert len(stored) == 2
    assert all(value and "sk-" not in value for value in stored)
    assert EvalModel.objects.get().api_key == "sk-123"  # read back by the server only


def test_the_guard_holds_at_call_time_too(django_capture_on_commit_callbacks):
    """A model saved while private addresses were allowed is not called once they are not."""
    manager = make_user("manager")
    project = make_project(kind="rubric_eval", members={manager: Role.MANAGER})
    services.items_import(
        project=project,
        prompts=formats.healthbench_read([orjson.dumps(r) for r in eval_prompts(2)]),
    )
    with EvalServer() as server:
        with override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True):
            model = services.eval_model_save(
                project=project,
                values={"name": "good", "base_url": server.base_url, "model": "good",
                        "max_retries": 0},
            )  # fmt: skip
        with django_capture_on_commit_callbacks(execute=False):
            run = services.run_create(project=project, actor=manager, eval_models=[model])
        services.run_execute(run_id=run.pk)
        assert server.calls == []
    run.refresh_from_db()
    assert (run.status, run.done, run.failed) == (RunStatus.FAILED, 0, 2)
    assert "public addresses" in run.errors[0]["error"]
    assert EvalRun.objects.count() == 1


def test_a_changed_template_is_a_new_version_calibrated_afresh(judged_set):
    project, _expert, manager, judge = judged_set
    first = services.judge_current_version(judge=judge)
    graded = JudgeGrade.objects.filter(judge_version=first).count()
    with override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True):
        services.judge_save(
            project=project,
            judge=judge,
            actor=manager,
            values={"template": judging.DEFAULT_TEMPLATE + "\nQuote the response."},
        )
    second = services.judge_current_version(judge=judge)
    assert (first.number, second.number) == (1, 2)
    assert services.gates_for(project=project) == []  # no gate until v2 is calibrated
    assert JudgeGrade.objects.filter(judge_version=first).count() == graded  # v1's grades kept
    summary = judge_summary(judge=judge)
    assert summary["calibration"] is None
    assert [v["template"].endswith("Quote the response.") for v in summary["versions"]] == [
        False,
        True,
    ]
    assert truth  # the helpers graded with the experts' rule


def test_the_graded_file_holds_the_peoples_and_the_judges_verdicts(judged_set):
    project, _expert, manager, _judge = judged_set
    api = APIClient()
    api.force_authenticate(manager)
    body = b"".join(
        api.get(f"/api/v1/projects/{project.pk}/evals/export/?format=graded").streaming_content
    )
    lines = [orjson.loads(line) for line in body.splitlines()]
    assert len(lines) == 50
    (split,) = [r for r in lines if r["prompt_id"] == "q15" and r["model"] == "good"]
    for row in split["rubrics"]:
        judged = row["judges"]["grader v1"]
        if "axis:communication" in row["tags"]:  # people graded these
            assert row["people"] is not None
            assert row["met"] == row["people"]["met"]
        else:  # the judge alone
            assert row["people"] is None
            assert row["met"] == judged["met"]
        word = row["criterion"].split()[1]
        assert row["met"] == (word in split["completion"])  # both told the truth here
