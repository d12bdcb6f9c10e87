"""Hostile shapes sent to every write route answer 4xx, never a 500 (issue #24, item 5).

The probe found eight 500s: a NUL character or a lone surrogate in an import or a bulk action
(PostgreSQL refuses both in text and jsonb; neither can be encoded as UTF-8), a username over
255 characters at the token route and on the log-in form (the sign-in throttle's table), and
100,000-deep JSON at the token route. This test walks the URL resolver (the permission matrix's
walk, so a new route is covered the day it is added) and sends each shape to every write method
of every route, as a manager of the project (who gets furthest into the views) and, on public
routes, as anyone. Run it on PostgreSQL too: SQLite stores a NUL without complaint.
"""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse

from tests.security.test_permission_matrix import (
    BODY,
    METHODS,
    PAGE_METHODS,
    RULES,
    all_routes,
    is_admin,
    url_for,
    world,  # noqa: F401 - the matrix's fixture: organizations, people and every kind of row
)

pytestmark = pytest.mark.django_db

SHAPES = {
    "nul": "a\x00b",
    "lone surrogate": "a\ud800b",
    "long": "x" * 300,
}
DEEP = "[" * 100_000 + "]" * 100_000


def _filled(value, text: str):
    """``value`` with every string in it (keys too) replaced by ``text``."""
    if isinstance(value, str):
        return text
    if isinstance(value, dict):
        return {text + key: _filled(item, text) for key, item in value.items()} | {
            key: _filled(item, text) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_filled(item, text) for item in value]
    return value


def _send(client, method: str, route, url: str, shape: str):
    if route.is_api:
        # json.dumps writes a lone surrogate as the escape \\ud800, as a client would
        body = DEEP if shape == "deep" else json.dumps(_filled(BODY, SHAPES[shape]))
        return getattr(client, method)(url, body, content_type="application/json")
    if method != "post":
        return getattr(client, method)(url)
    text = SHAPES.get(shape, DEEP)
    form = {
        key: json.dumps(_filled(value, text)) if isinstance(value, dict) else _filled(value, text)
        for key, value in BODY.items()
    }
    form["username"] = form["password"] = text
    return client.post(url, form)


# The sign-in throttle on, as in production: it stores each failed log-in's username.
@override_settings(AXES_ENABLED=True)
def test_no_write_route_answers_a_hostile_shape_with_a_server_error(client, request):
    _project, people, kwargs = request.getfixturevalue("world")
    client.raise_request_exception = False  # a 500 is a status to report, not an exception
    failures, sent, sent_anonymously = [], 0, 0
    for route in all_routes():
        if is_admin(route):
            continue
        url = url_for(route, kwargs)
        callers = ["manager", "anyone"] if RULES.get(route.key) == "public" else ["manager"]
        for method in METHODS if route.is_api else PAGE_METHODS:
            if method == "get":
                continue
            for shape in [*SHAPES, "deep"]:
                if shape == "lone surrogate" and not route.is_api:
                    continue  # a form is UTF-8: a browser cannot send one (JSON can, escaped)
                for caller in callers:
                    if caller == "anyone":
                        client.logout()
                        sent_anonymously += 1
                    else:
                        client.force_login(people["manager"])
                    response = _send(client, method, route, url, shape)
                    sent += 1
                    if response.status_code >= 500:
                        failures.append(
                            f"{method.upper()} {url} with {shape} as {caller}: "
                            f"{response.status_code}"
                        )
    print(f"hostile requests sent: {sent}, of them anonymously: {sent_anonymously}")
    assert failures == []
    assert sent > 400
    assert sent_anonymously > 40


@pytest.mark.parametrize("shape", ["nul", "lone surrogate"])
def test_an_import_file_with_a_nul_or_a_lone_surrogate_is_refused_by_row(
    client, request, shape, django_capture_on_commit_callbacks
):
    project, people, _kwargs = request.getfixturevalue("world")
    client.force_login(people["manager"])
    bad = "a\x00b" if shape == "nul" else "\\ud800"
    responses = '"responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]'
    jsonl = ('{"data": {"prompt": "ok", ' + responses + "}}\n").encode()
    jsonl += ('{"data": {"prompt": "' + bad + '", ' + responses + "}}\n").encode()
    upload = io.BytesIO(jsonl)
    upload.name = "tasks.jsonl"
    before = project.tasks.count()
    with django_capture_on_commit_callbacks(execute=True):  # the import job runs
        response = client.post(f"/api/v1/projects/{project.pk}/tasks/", {"file": upload})
    assert response.status_code in (400, 202), response.content
    if response.status_code == 202:  # queued: the job says why it refused
        job = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
        assert job["status"] == "failed", job
        assert "row 2" in json.dumps(job["errors"]) or "line 2" in json.dumps(job["errors"])
    else:
        assert "2" in json.dumps(response.json())
    assert project.tasks.count() == before


def test_the_token_route_and_the_log_in_form_refuse_hostile_usernames_and_deep_json(client):
    client.raise_request_exception = False
    token = reverse("api-token")
    long_name = {"username": "x" * 300, "password": "whatever-password"}
    answer = client.post(token, long_name, content_type="application/json")
    assert answer.status_code == 400
    assert "username" in answer.json()
    deep = client.post(token, DEEP, content_type="application/json")
    assert deep.status_code == 400
    assert "nested too deeply" in deep.json()["detail"]
    for text in SHAPES.values():
        body = json.dumps({"username": text, "password": text})
        assert client.post(token, body, content_type="application/json").status_code == 400
    assert client.post(reverse("login"), {"username": "a\x00b", "password": "x"}).status_code == 400


@override_settings(AXES_ENABLED=True)  # the sign-in throttle records every failed log-in
def test_the_log_in_form_refuses_a_username_longer_than_an_account_can_have(client):
    client.raise_request_exception = False
    longest = get_user_model()._meta.get_field("username").max_length
    for length in (longest + 1, 300, 100_000):
        page = client.post(reverse("login"), {"username": "x" * length, "password": "secret"})
        assert page.status_code == 200  # the form again, with its message
        assert page.context["form"].errors["username"] == [
            f"Ensure this value has at most {longest} characters (it has {length})."
        ]
    page = client.post(reverse("login"), {"username": "x" * longest, "password": "secret"})
    assert page.status_code == 200
    assert "username" not in page.context["form"].errors  # the usual refusal, counted by axes
    assert page.context["form"].non_field_errors()
