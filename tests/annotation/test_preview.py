import json

import pytest
from django.urls import reverse

from annotation.services import task_create_with_media
from labelhub.models import Role
from tests.factories import make_project, make_task, make_user
from tests.media import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    manager, reviewer, contributor, outsider = (make_user(n) for n in ("m", "r", "c", "o"))
    project = make_project(
        members={manager: Role.MANAGER, reviewer: Role.REVIEWER, contributor: Role.CONTRIBUTOR}
    )
    prediction = {"boxes": [{"label": "object", "x": 1, "y": 2, "w": 30, "h": 40}]}
    task = task_create_with_media(
        project=project,
        media_field="image",
        file=png_bytes(100, 80),
        filename="a.png",
        predictions=[prediction],
    )
    return {
        "manager": manager,
        "reviewer": reviewer,
        "contributor": contributor,
        "outsider": outsider,
        "project": project,
        "task": task,
    }


def preview_url(task, name="annotation:task-preview"):
    return reverse(name, kwargs={"project_id": task.project_id, "task_id": task.pk})


@pytest.mark.parametrize("who", ["manager", "reviewer"])
def test_managers_and_reviewers_see_the_preview_in_the_kinds_editor(client, world, who):
    client.force_login(world[who])
    response = client.get(preview_url(world["task"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="bbox-editor"' in html
    config = response.context["editor_config"]
    assert config["module"] == "/static/bbox/editor.js"
    assert config["initial_result"] == world["task"].predictions[0]
    assert config["data"]["width"] == 100
    assert '<div id="editor-config" hidden data-config="{&quot;kind&quot;' in html
    assert 'type="module" src="/static/js/editor-page.js"' in html
    assert "<script>" not in html
    assert 'style="' not in html


@pytest.mark.parametrize("who", ["contributor", "outsider"])
def test_contributors_and_outsiders_get_not_found(client, world, who):
    client.force_login(world[who])
    assert client.get(preview_url(world["task"])).status_code == 404
    check = client.post(
        preview_url(world["task"], "annotation:task-preview-check"), {"result": "{}"}
    )
    assert check.status_code == 404


def test_a_task_of_another_project_is_not_found(client, world):
    other = make_task(project=make_project(members={world["manager"]: Role.MANAGER}))
    client.force_login(world["manager"])
    url = reverse(
        "annotation:task-preview", kwargs={"project_id": world["project"].pk, "task_id": other.pk}
    )
    assert client.get(url).status_code == 404


def test_anonymous_visitor_is_sent_to_login(client, world):
    response = client.get(preview_url(world["task"]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_gold_answer_never_reaches_the_editor(client, world):
    project = world["project"]
    gold = {"boxes": [{"label": "object", "x": 5, "y": 5, "w": 10, "h": 10}]}
    task = make_task(
        project=project, data={"image": "https://example.com/g.jpg"}, is_gold=True, gold=gold
    )
    client.force_login(world["manager"])
    response = client.get(preview_url(task))
    assert response.context["editor_config"]["initial_result"] is None
    assert '"x": 5' not in response.content.decode()


def check(client, task, result, *, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    raw = result if isinstance(result, str) else json.dumps(result)
    return client.post(
        preview_url(task, "annotation:task-preview-check"), {"result": raw}, headers=headers
    )


def test_check_accepts_a_valid_result_as_a_partial(client, world):
    client.force_login(world["manager"])
    result = {"boxes": [{"label": "object", "x": 0, "y": 0, "w": 100, "h": 80}]}
    response = check(client, world["task"], result)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="check-result"')
    assert "The server accepts this result" in html


def test_check_lists_what_the_kind_refuses_by_path(client, world):
    client.force_login(world["manager"])
    result = {"boxes": [{"label": "dog", "x": 90, "y": 0, "w": 30, "h": 1}]}
    html = check(client, world["task"], result).content.decode()
    assert "would refuse" in html
    assert "<code>result.boxes.0.label</code> Unknown label" in html
    assert "ends inside the image" in html
    assert "at least 2 pixels" in html


def test_check_uses_the_size_the_editor_reports_for_an_image_given_by_url(client, world):
    task = make_task(project=world["project"], data={"image": "https://example.com/c.jpg"})
    client.force_login(world["manager"])
    box = {"label": "object", "x": 40, "y": 0, "w": 30, "h": 10}
    assert "accepts" in check(client, task, {"boxes": [box]}).content.decode()
    refused = check(client, task, {"boxes": [box], "width": 50, "height": 50})
    assert "ends inside the image" in refused.content.decode()


def test_check_refuses_text_that_is_not_json(client, world):
    client.force_login(world["manager"])
    html = check(client, world["task"], "{not json").content.decode()
    assert "not valid JSON" in html


def test_check_without_htmx_returns_the_whole_page(client, world):
    client.force_login(world["manager"])
    result = {"boxes": [{"label": "object", "x": 0, "y": 0, "w": 10, "h": 10}]}
    response = check(client, world["task"], result, htmx=False)
    assert "<html" in response.content.decode()
    assert response.context["editor_config"]["initial_result"]["boxes"] == result["boxes"]


@pytest.mark.parametrize("kind", ["ranking", "transcription"])
def test_every_kind_renders_its_editor(client, kind):
    manager = make_user()
    task = make_task(project=make_project(kind=kind, members={manager: Role.MANAGER}))
    client.force_login(manager)
    response = client.get(preview_url(task))
    assert response.status_code == 200
    assert f'data-testid="{kind}-editor"' in response.content.decode()
    assert response.context["editor_config"]["module"] == f"/static/{kind}/editor.js"


def test_model_text_is_escaped_in_the_ranking_editor(client):
    manager = make_user()
    project = make_project(kind="ranking", members={manager: Role.MANAGER})
    hostile = "<script>alert(1)</script>"
    data = {
        "prompt": hostile,
        "responses": [{"id": "a", "text": hostile}, {"id": "b", "text": "ok"}],
    }
    task = make_task(project=project, data=data)
    client.force_login(manager)
    html = client.get(preview_url(task)).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
