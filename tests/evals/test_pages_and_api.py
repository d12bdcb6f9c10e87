"""The eval set's pages and API: who may see them, imports that name bad rows, the leaderboard's
numbers (the same on the page and in the API), and the files."""

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from evals import services
from evals.models import EvalItem, EvalModel, Response
from kinds.rubric_eval import formats
from labelhub.models import Role
from tests.evals.eval_server import bad_answer, eval_prompts, good_answer, truth
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    manager, stranger = make_user("mia"), make_user("sam")
    project = make_project(kind="rubric_eval", members={manager: Role.MANAGER})
    api = APIClient()
    api.force_authenticate(manager)
    return project, manager, stranger, api


def graded_set(project, prompts: int = 12) -> None:
    """Prompts, two models' responses, and final verdicts as people would give them."""
    services.items_import(
        project=project,
        prompts=formats.healthbench_read([orjson.dumps(r) for r in eval_prompts(prompts)]),
    )
    rows = []
    for i in range(prompts):
        rows.append({"task": f"q{i}", "model": "good", "version": "v1", "response": good_answer(i)})
        rows.append({"task": f"q{i}", "model": "bad", "version": "v1", "response": bad_answer(i)})
    services.responses_import(project=project, rows=rows)
    for response in Response.objects.select_related("item"):
        data = {"rubric": response.item.rubric, "response": response.text}
        response.verdicts = truth(data)["verdicts"]
        met = {c: v["met"] for c, v in response.verdicts.items()}
        from kinds.rubric_eval import metrics

        response.score = metrics.response_score(response.item.rubric, met)
        response.tag_scores = metrics.tag_scores(response.item.rubric, met)
        response.stale = False
        response.settled_at = response.created_at
        response.save()


def test_pages_are_for_the_projects_managers(client, setup):
    project, manager, stranger, _api = setup
    for name in ("evals:home", "evals:judges", "evals:leaderboard"):
        client.force_login(stranger)
        assert client.get(reverse(name, args=[project.pk])).status_code == 404
        client.force_login(manager)
        page = client.get(reverse(name, args=[project.pk]))
        assert page.status_code == 200
        assert b'data-testid="nav-evals"' in page.content


def test_a_project_of_another_kind_says_what_evals_need(client):
    manager = make_user("mo")
    project = make_project(kind="ranking", members={manager: Role.MANAGER})
    client.force_login(manager)
    page = client.get(reverse("evals:home", args=[project.pk]))
    assert b"rubric-eval project in grade mode" in page.content
    assert b'data-testid="nav-evals"' not in page.content


def test_bad_prompt_rows_are_named_and_nothing_is_imported(setup):
    project, _m, _s, api = setup
    rows = eval_prompts(3)
    rows[2]["rubrics"][1]["points"] = 0
    rows[0]["prompt"] = []
    url = f"/api/v1/projects/{project.pk}/evals/prompts/"
    answer = api.post(url, rows, format="json")
    assert answer.status_code == 400
    assert answer.json() == {
        "line 1.prompt": ["The prompt is text, or a list of messages {role, content}."],
        "line 3.rubrics.1.points": ["Points are a whole number from -10 to 10, not 0."],
    }
    assert not EvalItem.objects.exists()
    assert api.post(url, eval_prompts(3), format="json").json() == {"created": 3, "updated": 0}


def test_a_prompt_file_with_blank_lines_names_the_line_an_editor_shows(setup, client):
    project, manager, _s, _api = setup
    rows = eval_prompts(2)
    rows[1]["rubrics"][0]["points"] = 0
    client.force_login(manager)
    page = client.post(
        reverse("evals:items-import", args=[project.pk]),
        {"file": SimpleUploadedFile("p.jsonl", b"\n\n".join(orjson.dumps(r) for r in rows))},
    )
    assert page.status_code == 422
    assert b"line 3.rubrics.0.points: Points are a whole number" in page.content
    assert not EvalItem.objects.exists()


def test_imported_responses_name_the_bad_row(setup, client):
    project, manager, _s, api = setup
    graded = eval_prompts(2)
    services.items_import(
        project=project, prompts=formats.healthbench_read([orjson.dumps(r) for r in graded])
    )
    url = f"/api/v1/projects/{project.pk}/evals/responses/"
    rows = [
        {"task": "q0", "model": "m", "response": "fine"},
        {"task": "nope", "model": "m", "response": "x"},
        {"task": "q1", "model": "", "response": "x"},
    ]
    answer = api.post(url, rows, format="json")
    assert answer.status_code == 400
    assert answer.json() == {
        "1.task": ["No prompt of this eval set has that key or id."],
        "2.model": ["Name the model (1 to 100 characters)."],
    }
    assert not Response.objects.exists()
    # the page takes a JSONL file and says the line (1-based)
    client.force_login(manager)
    body = b"\n\n".join(orjson.dumps(r) for r in rows)  # a blank line between rows
    page = client.post(
        reverse("evals:responses-import", args=[project.pk]),
        {"file": SimpleUploadedFile("r.jsonl", body)},
    )
    assert page.status_code == 422
    assert b"line 3, task: No prompt of this eval set has that key or id." in page.content
    assert b"line 5, model: Name the model" in page.content
    assert api.post(url, rows[:1], format="json").json() == {"created": 1}
    again = api.post(url, rows[:1], format="json")
    assert again.status_code == 400
    assert again.json() == {"rows": ["m already answered prompt q0; responses are not replaced."]}


def test_the_leaderboard_page_and_api_show_the_same_numbers(setup, client):
    project, manager, _s, api = setup
    graded_set(project)
    board = api.get(f"/api/v1/projects/{project.pk}/evals/leaderboard/").json()
    good, bad = board["models"]
    assert (good["label"], bad["label"]) == ("good v1", "bad v1")
    assert good["score"]["low"] > bad["score"]["high"]
    assert board["pairs"][0]["distinguishable"]
    client.force_login(manager)
    html = client.get(reverse("evals:leaderboard", args=[project.pk])).content.decode()
    shown = f"{good['score']['value']:.3f} ({good['score']['low']:.3f}–{good['score']['high']:.3f})"
    assert shown in html
    assert "good v1 is better" in html
    assert html.count('data-testid="interval-bar"') == 2


@pytest.mark.parametrize(
    "name", ["healthbench", "graded", "scores", "leaderboard", "sft", "preferences"]
)
def test_every_file_downloads(setup, name):
    project, _m, _s, api = setup
    graded_set(project, prompts=4)
    answer = api.get(f"/api/v1/projects/{project.pk}/evals/export/?format={name}")
    assert answer.status_code == 200
    body = b"".join(answer.streaming_content)
    if name == "scores":
        assert body.decode().splitlines()[0].startswith("prompt_id,model,model_version,score")
        assert len(body.decode().splitlines()) == 9
    elif name == "leaderboard":
        assert [m["label"] for m in orjson.loads(body)["models"]] == ["good v1", "bad v1"]
    else:
        rows = [orjson.loads(line) for line in body.splitlines()]
        if name == "healthbench":
            assert rows == eval_prompts(4)
        elif name == "graded":
            assert len(rows) == 8
            assert {r["model"] for r in rows} == {"good", "bad"}
            assert all(len(r["rubrics"]) == 4 and "met" in r["rubrics"][0] for r in rows)
        elif name == "sft":
            assert len(rows) == 4
            assert all(r["model"] == "good" for r in rows)
        else:
            assert rows
            assert all(r["score_gap"] >= 0.1 and r["chosen_model"] == "good v1" for r in rows)
    assert api.get(f"/api/v1/projects/{project.pk}/evals/export/?format=nope").status_code == 400


def test_the_runs_table_polls_while_a_run_works(setup, client):
    project, manager, _s, _api = setup
    from evals.models import EvalRun, RunStatus

    run = EvalRun.objects.create(project=project, total=10, done=4)
    client.force_login(manager)
    page = client.get(reverse("evals:home", args=[project.pk])).content.decode()
    status_url = reverse("evals:runs", args=[project.pk])
    assert f'hx-get="{status_url}" hx-trigger="every 2s"' in page
    assert "4 of 10" in client.get(status_url).content.decode()
    EvalRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE, done=10)
    done = client.get(status_url).content.decode()
    assert "10 of 10" in done
    assert "hx-get" not in done


def test_refusals_answer_with_the_shared_shape_and_a_code(setup):
    """Eval refusals are the project's ``Refusal``: the API's one handler answers them with a
    ``code`` (no try/except in the eval views), and a service's ``ValidationError`` stays a 400
    keyed by field."""
    project, _m, _s, api = setup
    model = EvalModel.objects.create(
        project=project, name="m", base_url="https://models.example.com/v1", model="m"
    )
    no_prompts = api.post(
        f"/api/v1/projects/{project.pk}/evals/runs/", {"models": [model.pk]}, format="json"
    )
    assert no_prompts.status_code == 409
    assert no_prompts.json() == {
        "detail": "The eval set has no prompts yet: import them first.",
        "code": "no_prompts",
    }
    other = make_project(kind="ranking", members={setup[1]: Role.MANAGER})
    refused = api.post(f"/api/v1/projects/{other.pk}/evals/route/", {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_an_eval_set"
    bad = api.post(f"/api/v1/projects/{project.pk}/evals/route/", {"sample": 0}, format="json")
    assert bad.status_code == 400
    assert bad.json() == {"sample": ["A whole number from 1 to 100000."]}
