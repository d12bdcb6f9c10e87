"""What a judge graded alone goes back to people when the judge goes away (stopped, a new
version of its grader prompt, deleted on the page), and a re-imported rubric keeps only the
verdicts of the criteria that did not change: no score is silently lost or given to another
criterion."""

import orjson
import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from evals import judging, services
from evals.models import JudgeGrade, JudgeStatus, PeopleTask, Response, Route
from kinds.rubric_eval import formats, metrics
from labelhub.models import Role
from tests.evals.eval_server import eval_prompts, truth
from tests.evals.helpers import grade_all, held, judge_grades, load, scored
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("going", ["stopped", "new version", "deleted on the page"])
def test_what_a_judge_graded_goes_back_to_people_when_it_goes_away(
    judged_set, going, client, django_capture_on_commit_callbacks
):
    project, expert, manager, judge = judged_set
    if going == "stopped":
        services.judge_stop(judge=judge, reason="Stopped by hand.")
    elif going == "new version":
        with override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True):
            services.judge_save(
                project=project,
                judge=judge,
                actor=manager,
                values={"template": judging.DEFAULT_TEMPLATE + "\nBe strict."},
            )
        assert services.gates_for(project=project) == []
    else:
        client.force_login(manager)
        page = client.post(
            reverse("evals:judge-action", args=[project.pk, judge.pk]), {"action": "delete"}
        )
        assert page.status_code == 302
        assert not JudgeGrade.objects.exists()

    # Every criterion of every response is now held by people: nothing is left to a judge.
    for response in Response.objects.select_related("item").prefetch_related("people_tasks"):
        assert held(response) == {c["id"] for c in response.item.rubric}, response.item.key
    assert not Response.objects.filter(route=Route.JUDGE).exists()
    # The 10 mixed responses got a second task with only the criteria the judge had covered.
    seconds = [
        parts
        for parts in (
            list(r.people_tasks.all()) for r in Response.objects.prefetch_related("people_tasks")
        )
        if len(parts) == 2
    ]
    assert len(seconds) == 10
    assert all(len(second.criteria) == 2 for _first, second in seconds)
    # The API lists both tasks, and `task` stays the first, as scripts written for 1.1 read it.
    api = APIClient()
    api.force_authenticate(manager)
    listed = api.get(f"/api/v1/projects/{project.pk}/evals/responses/").json()["results"]
    assert sum(len(r["tasks"]) == 2 for r in listed) == 10
    assert all(r["task"] == r["tasks"][0] for r in listed)
    assert scored(project) == {"good": 15, "bad": 15}  # waiting for people, not lost

    assert grade_all(django_capture_on_commit_callbacks, project, expert) == 20
    assert scored(project) == {"good": 25, "bad": 25}
    for response in Response.objects.select_related("item"):
        assert response.score == metrics.response_score(
            response.item.rubric,
            {
                c: v["met"]
                for c, v in truth({"rubric": response.item.rubric, "response": response.text})[
                    "verdicts"
                ].items()
            },
        )


def test_a_rubric_reimported_with_a_criterion_inserted_keeps_the_verdicts_of_the_others(
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    expert = make_user("expert")
    project = make_project(
        kind="rubric_eval", members={expert: Role.CONTRIBUTOR}, quality={"overlap": 1}
    )
    rows = eval_prompts(3)
    load(project, rows)
    services.responses_send_to_people(project=project, count=6)
    assert grade_all(capture, project, expert) == 6
    services.responses_settle(project=project)
    good = Response.objects.get(item__key="q0", model_name="good")
    before = dict(good.verdicts)
    assert good.score == pytest.approx(7 / 10)  # q0: no dose; fact 5 + warm 2 of 10

    # The experts add a criterion at the top of q0's rubric; nothing else changes.
    rows[0]["rubrics"].insert(
        0, {"criterion": "Mentions topic [axis:accuracy]", "points": 4, "tags": ["axis:accuracy"]}
    )
    outcome = services.items_import(
        project=project, prompts=formats.healthbench_read([orjson.dumps(r) for r in rows])
    )
    assert (outcome.created, outcome.updated) == (0, 1)
    services.responses_settle(project=project)
    good = Response.objects.select_related("item").get(pk=good.pk)
    new_id = good.item.rubric[0]["id"]
    assert {c["id"] for c in good.item.rubric[1:]} == set(before)  # the others keep their ids
    assert good.score is None  # the new criterion has no verdict yet, none was shifted onto it
    assert {c: v["met"] for c, v in good.verdicts.items()} == {
        c: v["met"] for c, v in before.items()
    }

    routed = services.responses_route(project=project)
    assert routed.people == 2
    second = PeopleTask.objects.filter(response=good).last()
    assert second.criteria == [new_id]
    assert grade_all(capture, project, expert) == 2
    services.responses_settle(project=project)
    good.refresh_from_db()
    assert good.verdicts[new_id]["met"] is True
    assert good.score == pytest.approx((4 + 5 + 2) / 14)


def test_a_changed_criterion_with_an_id_from_the_file_loses_its_old_verdict(
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    expert = make_user("expert")
    project = make_project(
        kind="rubric_eval", members={expert: Role.CONTRIBUTOR}, quality={"overlap": 1}
    )
    rows = eval_prompts(1)
    for n, criterion in enumerate(rows[0]["rubrics"], start=1):
        criterion["id"] = f"k{n}"
    load(project, rows)
    services.responses_send_to_people(project=project, count=2)
    grade_all(capture, project, expert)
    rows[0]["rubrics"][0]["criterion"] = "Mentions warm0 [axis:accuracy]"  # k1 says another thing
    services.items_import(
        project=project, prompts=formats.healthbench_read([orjson.dumps(r) for r in rows])
    )
    services.responses_settle(project=project)
    bad = Response.objects.get(model_name="bad")
    assert [c["id"] for c in bad.item.rubric] == ["k1", "k2", "k3", "k4"]
    assert set(bad.verdicts) == {"k2", "k3", "k4"}
    assert bad.score is None
    assert services.responses_route(project=project).people == 2
    assert PeopleTask.objects.filter(response=bad).last().criteria == ["k1"]
    grade_all(capture, project, expert)
    services.responses_settle(project=project)
    bad.refresh_from_db()
    assert bad.verdicts["k1"] == {"met": False}  # the bad answer never mentions warm0


def test_a_raised_bar_moves_the_gate_at_once_without_stopping_the_judge(
    judged_set, django_capture_on_commit_callbacks
):
    project, expert, manager, judge = judged_set
    api = APIClient()
    api.force_authenticate(manager)
    with override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True):
        changed = api.patch(
            f"/api/v1/projects/{project.pk}/evals/judges/{judge.pk}/",
            {"min_items": 1000},
            format="json",
        )
    assert changed.status_code == 200, changed.content
    summary = changed.json()
    assert summary["status"] == "active"  # the bar moved, the judge did not fall
    assert summary["calibration"]["min_items"] == 1000
    assert summary["calibration"]["passing_tags"] == []
    assert services.gates_for(project=project) == []
    # What it covered went back to people at once.
    for response in Response.objects.select_related("item").prefetch_related("people_tasks"):
        assert held(response) == {c["id"] for c in response.item.rubric}
    assert grade_all(django_capture_on_commit_callbacks, project, expert) == 20
    assert scored(project) == {"good": 25, "bad": 25}


def test_a_judge_that_drifts_is_stopped_when_people_grade_its_share_without_a_click(
    judged_set, django_capture_on_commit_callbacks
):
    """New prompts: the judge (calibrated, active) grades them wrongly on accuracy; people grade
    what routing gives them; the quality step's hook measures the judge again and stops it."""
    project, expert, _manager, judge = judged_set
    version = services.judge_current_version(judge=judge)
    load(project, eval_prompts(40)[25:])
    fresh = list(Response.objects.filter(route=Route.WAITING).select_related("item"))
    judge_grades(version, fresh)
    for grade in JudgeGrade.objects.filter(response__in=fresh).select_related("response__item"):
        for criterion in grade.response.item.rubric:
            if "axis:accuracy" in criterion["tags"]:
                verdict = grade.verdicts[criterion["id"]]
                grade.verdicts[criterion["id"]] = {"met": not verdict["met"]}
        grade.save(update_fields=["verdicts"])
    # The manager sends these to people as a check sample (the judge's human share would too).
    assert services.responses_send_to_people(project=project, count=30) == 30
    calibrations = version.calibrations.count()
    # 30 sampled, then 20 more: when it stopped, what it had covered came back to people.
    assert grade_all(django_capture_on_commit_callbacks, project, expert) == 30 + 20
    judge.refresh_from_db()
    assert version.calibrations.count() > calibrations  # measured again, nobody clicked
    assert judge.status == JudgeStatus.STOPPED
    assert "on axis:accuracy its macro-F1 against the experts fell to" in judge.stop_reason
    assert services.gates_for(project=project) == []
    assert scored(project) == {"good": 40, "bad": 40}
