"""The queue API: next, draft, submit, skip over HTTP with token auth."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from annotation.models import Annotation, ContributorStatus, ProjectContributor, Task
from labelhub.accounts import api_token_issue
from labelhub.models import Role
from tests.annotation.helpers import make_gold, make_queue_project, make_tasks
from tests.annotation.test_queue import statements
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user).key}")
    return client


def next_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/next/"


def test_next_returns_the_assignment_task_and_expiry():
    project, (ana,) = make_queue_project(contributors=1)
    (task,) = make_tasks(project, 1)
    task.predictions = [{"label": "cat"}]
    task.save()
    response = client_for(ana).post(next_url(project))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"assignment", "task", "expires_at"}
    assert body["task"] == {
        "id": task.pk,
        "data": {"n": 0},
        "predictions": [{"label": "cat"}],
        "content": [],
        "shown_order": [],  # nothing compared in this kind
    }
    assert body["assignment"]["expires_at"] == body["expires_at"]
    assert set(body["assignment"]) == {
        "id",
        "status",
        "expires_at",
        "draft",
        "draft_saved_at",
        "version",
    }


def test_next_is_204_when_there_is_no_work():
    project, (ana,) = make_queue_project(contributors=1)
    assert client_for(ana).post(next_url(project)).status_code == 204


def test_next_is_post_only():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    assert client_for(ana).get(next_url(project)).status_code == 405


def test_gold_and_real_tasks_look_the_same():
    project, (ana, ben) = make_queue_project(quality={"gold_rate": 1.0})
    make_tasks(project, 1)
    (gold,) = make_gold(project, 1)
    gold_body = client_for(ana).post(next_url(project)).json()
    assert gold_body["task"]["id"] == gold.pk
    ProjectContributor.objects.filter(user=ben).delete()
    project.quality = {"gold_rate": 0.0}
    project.save()
    real_body = client_for(ben).post(next_url(project)).json()
    assert real_body["task"]["id"] != gold.pk
    assert set(gold_body) == set(real_body)
    assert (
        set(gold_body["task"])
        == set(real_body["task"])
        == {"id", "data", "predictions", "content", "shown_order"}
    )
    assert set(gold_body["assignment"]) == set(real_body["assignment"])
    assert "cat" not in str(gold_body)  # the gold answer never leaves the server


def test_non_contributors_get_404():
    project, _ = make_queue_project(contributors=1)
    make_tasks(project, 1)
    manager, outsider = make_user(), make_user()
    from labelhub.models import ProjectMember

    ProjectMember.objects.create(project=project, user=manager, role=Role.MANAGER)
    assert client_for(manager).post(next_url(project)).status_code == 404
    assert client_for(outsider).post(next_url(project)).status_code == 404
    assert APIClient().post(next_url(project)).status_code == 401


def test_the_project_read_with_the_token_is_the_one_of_the_route_and_the_persons_role():
    """With a token, "next" reads the project in the token's statement: a contributor of
    another project, a project that does not exist, an inactive person, and the browser's
    session (its own query) each get what they got before."""
    project, (ana,) = make_queue_project(contributors=1)
    other, (ben,) = make_queue_project(contributors=1)
    make_tasks(project, 2)
    make_tasks(other, 2)
    assert client_for(ben).post(next_url(project)).status_code == 404
    missing = f"/api/v1/projects/{other.pk + 1000}/next/"
    assert client_for(ana).post(missing).status_code == 404
    answer = client_for(ana).post(next_url(project))
    assert answer.status_code == 200
    assert Task.objects.get(pk=answer.json()["task"]["id"]).project_id == project.pk
    browser = APIClient()
    browser.force_login(ben)
    assert browser.post(next_url(other)).status_code == 200
    assert browser.post(next_url(project)).status_code == 404
    inactive = client_for(ana)
    ana.is_active = False
    ana.save(update_fields=["is_active"])
    assert inactive.post(next_url(project)).status_code == 401


def test_someone_elses_assignment_is_404():
    project, (ana, ben) = make_queue_project()
    make_tasks(project, 1)
    assignment = client_for(ana).post(next_url(project)).json()["assignment"]["id"]
    ben_client = client_for(ben)
    for method, suffix, body in (
        ("put", "draft", {"result": {}}),
        ("post", "submit", {"result": {"label": "cat"}}),
        ("post", "skip", {}),
    ):
        response = getattr(ben_client, method)(
            f"/api/v1/assignments/{assignment}/{suffix}/", body, format="json"
        )
        assert response.status_code == 404, suffix


def test_draft_then_reload_then_submit_twice():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 2)
    client = client_for(ana)
    first = client.post(next_url(project)).json()
    aid = first["assignment"]["id"]
    saved = client.put(
        f"/api/v1/assignments/{aid}/draft/", {"result": {"label": "d"}, "version": 1}, format="json"
    )
    assert saved.status_code == 200
    assert saved.json()["version"] == 2
    stale = client.put(
        f"/api/v1/assignments/{aid}/draft/", {"result": {"label": "x"}, "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert stale.json()["current_version"] == 2
    reloaded = client.post(next_url(project)).json()
    assert reloaded["assignment"]["id"] == aid
    assert reloaded["assignment"]["draft"] == {"label": "d"}

    url = f"/api/v1/assignments/{aid}/submit/"
    body = {"result": {"label": "dog"}, "active_seconds": 12}
    created = client.post(url, body, format="json")
    repeated = client.post(url, body, format="json")
    assert (created.status_code, repeated.status_code) == (201, 200)
    assert created.json() == repeated.json()
    assert Annotation.objects.count() == 1
    assert Annotation.objects.get().active_seconds == 12


@pytest.mark.parametrize(("given", "stored"), [(4.53, 5), (0.4, 0), ("7.5", 8), (0, 0)])
def test_active_time_may_be_a_decimal_number_of_seconds(given, stored):
    """Every timer gives fractions of a second (Label Studio's lead_time is a float)."""
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    client = client_for(ana)
    aid = client.post(next_url(project)).json()["assignment"]["id"]
    body = {"result": {"label": "dog"}, "active_seconds": given}
    response = client.post(f"/api/v1/assignments/{aid}/submit/", body, format="json")
    assert response.status_code == 201, response.json()
    assert Annotation.objects.get().active_seconds == stored


@pytest.mark.parametrize("given", [-1, -0.5, "soon", None, [], "NaN", "Infinity"])
def test_active_time_that_is_not_a_non_negative_number_is_refused(given):
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    client = client_for(ana)
    aid = client.post(next_url(project)).json()["assignment"]["id"]
    body = {"result": {"label": "dog"}, "active_seconds": given}
    response = client.post(f"/api/v1/assignments/{aid}/submit/", body, format="json")
    assert response.status_code == 400
    assert "active_seconds" in response.json()
    assert Annotation.objects.count() == 0


def test_a_submitted_box_is_checked_against_the_size_the_editor_reports():
    """For an image given by URL the editor sends its natural size; submit checks boxes against
    it as the preview and a reviewer's fix do."""
    from labelhub.models import Role
    from tests.factories import make_project

    ana = make_user()
    project = make_project(kind="bbox", members={ana: Role.CONTRIBUTOR})
    Task.objects.create(project=project, data={"image": "https://example.com/cat.jpg"})
    client = client_for(ana)
    aid = client.post(next_url(project)).json()["assignment"]["id"]
    box = {"label": "object", "x": 90, "y": 10, "w": 30, "h": 20}
    body = {"result": {"boxes": [box], "width": 100, "height": 80}}
    response = client.post(f"/api/v1/assignments/{aid}/submit/", body, format="json")
    assert response.status_code == 400
    assert "x + w at most its width" in str(response.json()), response.json()
    body["result"]["boxes"][0]["x"] = 60
    response = client.post(f"/api/v1/assignments/{aid}/submit/", body, format="json")
    assert response.status_code == 201, response.json()


def test_invalid_answer_is_400_with_field_paths():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    client = client_for(ana)
    aid = client.post(next_url(project)).json()["assignment"]["id"]
    response = client.post(
        f"/api/v1/assignments/{aid}/submit/", {"result": {"label": "horse"}}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["result.label"]
    missing = client.post(f"/api/v1/assignments/{aid}/submit/", {}, format="json")
    assert missing.status_code == 400
    assert "result" in missing.json()
    assert not Annotation.objects.exists()


def test_skip_with_reason():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 2)
    client = client_for(ana)
    aid = client.post(next_url(project)).json()["assignment"]["id"]
    skipped = client.post(f"/api/v1/assignments/{aid}/skip/", {"reason": "blurry"}, format="json")
    assert skipped.status_code == 200
    assert skipped.json()["status"] == "skipped"
    assert client.post(next_url(project)).json()["assignment"]["id"] != aid


def test_paused_contributor_gets_a_message_not_an_error():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    ProjectContributor.objects.create(
        project=project, user=ana, status=ContributorStatus.PAUSED, pause_reason="too fast"
    )
    response = client_for(ana).post(next_url(project))
    assert response.status_code == 403
    assert response.json()["code"] == "paused"
    assert "too fast" in response.json()["detail"]


def test_late_submit_refused_is_409_with_a_message():
    from datetime import timedelta

    from django.utils import timezone

    from annotation.models import Assignment

    project, (ana, ben) = make_queue_project()
    make_tasks(project, 1)
    a_client, b_client = client_for(ana), client_for(ben)
    aid = a_client.post(next_url(project)).json()["assignment"]["id"]
    Assignment.objects.filter(pk=aid).update(lease_expires_at=timezone.now() - timedelta(1))
    bid = b_client.post(next_url(project)).json()["assignment"]["id"]
    b_client.post(f"/api/v1/assignments/{bid}/submit/", {"result": {"label": "cat"}}, format="json")
    late = a_client.post(
        f"/api/v1/assignments/{aid}/submit/", {"result": {"label": "dog"}}, format="json"
    )
    assert late.status_code == 409
    assert late.json()["code"] == "lease_expired"
    assert Assignment.objects.get(pk=aid).draft == {"label": "dog"}


def test_next_over_http_takes_a_handful_of_queries():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 20)
    client = client_for(ana)
    aid = client.post(next_url(project)).json()["assignment"]["id"]
    with CaptureQueriesContext(connection) as queries:
        client.post(
            f"/api/v1/assignments/{aid}/submit/", {"result": {"label": "cat"}}, format="json"
        )
    submit_count = len(statements(queries))
    with CaptureQueriesContext(connection) as queries:
        assert client.post(next_url(project)).status_code == 200
    next_count = len(statements(queries))
    # the token with the project and the person's role + the claim's statements; token + the
    # submit's
    if connection.vendor == "postgresql":
        assert (next_count, submit_count) == (1 + 2, 1 + 2)
    else:
        assert (next_count, submit_count) == (1 + 5, 1 + 4)


def test_unknown_token_or_inactive_user_is_401():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.post(next_url(project)).status_code == 401
    ana_client = client_for(ana)
    ana.is_active = False
    ana.save()
    assert ana_client.post(next_url(project)).status_code == 401


def test_the_browser_session_works_too():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(ana)
    assert client.post(next_url(project)).status_code == 403  # no CSRF token
    client = APIClient()
    client.force_login(ana)
    assert client.post(next_url(project)).status_code == 200


def test_a_kinds_paths_rooted_at_result_are_not_rooted_twice():
    ana, manager = make_user(), make_user()
    schema = {
        "modes": ["rate"],
        "criteria": [{"name": "accuracy", "scale": 5, "per": "turn"}],
        "error_types": [],
    }
    project = make_project(
        kind="conversation",
        schema=schema,
        members={ana: Role.CONTRIBUTOR, manager: Role.MANAGER},
    )
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    Task.objects.create(project=project, data={"messages": messages})
    client = client_for(ana)
    aid = client.post(next_url(project)).json()["assignment"]["id"]
    response = client.post(
        f"/api/v1/assignments/{aid}/submit/",
        {"result": {"turns": [{"index": 1, "scores": {"accuracy": 9}, "spans": []}]}},
        format="json",
    )
    assert response.status_code == 400
    paths = list(response.json())
    assert paths, response.json()
    assert all(p.startswith("result.") and not p.startswith("result.result") for p in paths)
    assert any(p.startswith("result.turns.0.scores") for p in paths), paths


@pytest.fixture
def round_trips(monkeypatch) -> list[str]:
    """What psycopg sends to PostgreSQL and waits for, one entry per round trip: statements,
    Django's own ``SELECT 1`` health check, and the BEGIN and COMMIT psycopg sends itself."""
    import psycopg

    sent: list[str] = []
    on_cursor, on_connection = psycopg.Cursor.execute, psycopg.Connection.execute
    command = psycopg.Connection._exec_command

    # A statement is written down once sent (psycopg sends the BEGIN it needs before it).
    def cursor_execute(self, query, *args, **kwargs):
        done = on_cursor(self, query, *args, **kwargs)
        sent.append(str(query))
        return done

    def connection_execute(self, query, *args, **kwargs):
        done = on_connection(self, query, *args, **kwargs)
        sent.append(str(query))
        return done

    def exec_command(self, sql, *args, **kwargs):
        sent.append(sql.decode() if isinstance(sql, bytes) else str(sql))
        return command(self, sql, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", cursor_execute)
    monkeypatch.setattr(psycopg.Connection, "execute", connection_execute)
    monkeypatch.setattr(psycopg.Connection, "_exec_command", exec_command)
    return sent


def served(method: str, path: str, token: str, body: bytes = b"") -> tuple[int, bytes]:
    """One request through Django's WSGI handler as gunicorn calls it: the request signals,
    every middleware and the connection kept between requests, as in production."""
    import io

    from django.core.handlers.wsgi import WSGIHandler

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "REMOTE_ADDR": "127.0.0.1",
    }
    status = []
    response = WSGIHandler()(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        content = b"".join(response)
    finally:
        response.close()  # request_finished, as the server sends it
    return int(status[0].split()[0]), content


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's round trips")
def test_every_round_trip_of_a_steady_state_next_and_submit_is_pinned(settings, round_trips):
    """What one client's next and submit send to the database, over a connection kept between
    requests and with the submit's after-commit step run, as in production: each line below is
    a round trip, and the p95 of the queue is mostly the count of them (docs/performance.md).
    A request does not ask the database whether its connection is alive (the socket tells:
    labelhub/dropped_connections.py); a claim relaxes its commit, probes for expired leases and
    locks the person's row in one statement; the token's statement of a claim reads the project
    too; a submit while a judging run waits only looks for that run."""
    import json

    # Judging queued for a worker, as in production (the tests' default runs it inline).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    kept = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 60  # kept between requests, as in production
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 20)
    token = api_token_issue(user=ana).key
    answer = json.dumps({"result": {"label": "cat"}}).encode()

    def cycle() -> tuple[list[str], list[str]]:
        round_trips.clear()
        status, body = served("POST", next_url(project), token)
        assert status == 200, body
        claimed = list(round_trips)
        round_trips.clear()
        aid = json.loads(body)["assignment"]["id"]
        status, body = served("POST", f"/api/v1/assignments/{aid}/submit/", token, answer)
        assert status == 201, body
        return claimed, list(round_trips)

    try:
        cycle()  # the first claim makes the person's row; the first submit queues a judging run
        claim, submit = cycle()
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = kept
    assert_round_trips(
        claim,
        [
            # the token, its person, and the project with the person's role on it
            ("SELECT", "labelhub_projectmember"),
            ("BEGIN", ""),
            # the person's row locked, the commit relaxed, the expired leases probed
            ("SELECT", "set_config('synchronous_commit'"),
            ("WITH", "INSERT INTO annotation_assignment"),  # candidate, lease count, the lease
            ("COMMIT", ""),
        ],
    )
    assert "FROM annotation_projectcontributor" in claim[2]
    assert "labelhub_apitoken" in claim[0]
    assert_round_trips(
        submit,
        [
            ("SELECT", "labelhub_apitoken"),
            ("BEGIN", ""),
            ("SELECT", "FOR UPDATE"),  # the lease, locked, with its task and project
            ("WITH", "INSERT INTO annotation_annotation"),  # lease closed, answer stored
            ("COMMIT", ""),
            ("SELECT", "quality_judgingrequest"),  # a run is queued already: nothing to add
        ],
    )


def assert_round_trips(sent: list[str], expected: list[tuple[str, str]]) -> None:
    """Each statement sent begins with the expected verb and contains the expected text."""
    shown = [sql[:90] for sql in sent]
    assert len(sent) == len(expected), shown
    for sql, (verb, text) in zip(sent, expected, strict=True):
        assert sql.split(None, 1)[0].upper() == verb, (sql[:300], verb)
        assert text in sql, (sql[:300], text)
