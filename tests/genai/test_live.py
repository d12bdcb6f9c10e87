"""Live mode on the server: the model connection page, the address guard, the streamed turn and
what it stores, against a real OpenAI-compatible server on loopback."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from annotation import queue
from genai import client as model_client
from genai.client import ChatRequest, ModelFailed, chat_stream
from genai.models import LiveModel
from labelhub.models import AuditEvent, Role
from tests.factories import make_project, make_task, make_user
from tests.genai.openai_server import ChatServer

pytestmark = pytest.mark.django_db
KEY = "sk-test-7Hq2"
SCHEMA = {"modes": ["rate", "rewrite"], "criteria": [{"name": "accuracy", "scale": 5}]}
SEED = {"messages": [{"role": "system", "content": "Be brief."}], "live": True}
ALLOW = override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True)


@pytest.fixture
def server():
    with ChatServer(delay=0.0, api_key=KEY) as running:
        yield running


def request_for(server, text: str, *, key: str = KEY) -> ChatRequest:
    return ChatRequest(
        endpoint=server.base_url + "/chat/completions",
        model="acme-chat",
        api_key=key,
        temperature=0.2,
        max_tokens=64,
        messages=[{"role": "user", "content": text}],
    )


@ALLOW
def test_the_reply_streams_in_pieces_with_the_key_and_the_settings(server):
    pieces = list(chat_stream(request_for(server, "hi")))
    assert len(pieces) > 3
    assert "".join(pieces) == "You said: hi. This is reply number 1."
    sent = server.requests[0]
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}"
    assert sent["body"] == {
        "model": "acme-chat",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "temperature": 0.2,
        "max_tokens": 64,
    }


def test_a_loopback_model_is_refused_unless_allowed(server):
    with pytest.raises(ModelFailed) as refused:
        list(chat_stream(request_for(server, "hi")))
    assert str(refused.value) == (
        "The model's address is refused: 127.0.0.1 is a loopback address; calls to the model "
        "only go to public addresses."
    )
    assert server.requests == []  # never called
    with override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True), pytest.raises(ModelFailed):
        list(chat_stream(request_for(server, "hi")))  # the webhooks' setting is not this one


@ALLOW
@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("hi", "wrong", "The model answered HTTP 401: Incorrect API key provided."),
        ("FAIL", KEY, "The model answered HTTP 500: The model is overloaded."),
        ("MOVED", KEY, "The model answered HTTP 302: redirects are not followed."),
    ],
)
def test_a_failing_model_gives_a_clear_message(server, text, key, message):
    with pytest.raises(ModelFailed) as failed:
        list(chat_stream(request_for(server, text, key=key)))
    assert str(failed.value) == message


@ALLOW
def test_a_model_that_stops_sending_times_out(server, monkeypatch):
    monkeypatch.setattr(model_client, "READ_TIMEOUT", 0.5)
    with pytest.raises(ModelFailed) as failed:
        list(chat_stream(request_for(server, "SLOW")))
    assert str(failed.value) == "The model stopped sending for 0.5 s; the reply is cut."


def test_nothing_listens_there():
    with ALLOW, pytest.raises(ModelFailed) as failed:
        list(chat_stream(ChatRequest("http://127.0.0.1:9/v1/chat/completions", "m", "", 0, 1, [])))
    assert str(failed.value).startswith("The model could not be reached:")


@pytest.fixture
def live_world():
    ana, ben, maria = make_user("ana"), make_user("ben"), make_user("maria")
    project = make_project(
        kind="conversation",
        schema=SCHEMA,
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, maria: Role.MANAGER},
    )
    return project, ana, ben, maria


def test_the_manager_connects_the_model_and_the_key_is_never_shown_back(client, live_world, server):
    project, ana, _ben, maria = live_world
    url = reverse("genai:model-settings", args=[project.pk])
    client.force_login(maria)
    form = {"enabled": "on", "base_url": server.base_url, "model": "acme-chat",
            "api_key": KEY, "temperature": "0.3", "max_tokens": "200"}  # fmt: skip
    with ALLOW:  # the test's model is on loopback (checked at save since issue #24)
        assert client.post(url, form).status_code == 302
    live = LiveModel.objects.get(project=project)
    assert (live.api_key, live.model, live.max_tokens) == (KEY, "acme-chat", 200)
    page = client.get(url).content.decode()
    assert KEY not in page
    assert "An API key is stored (not shown)." in page
    # Saving again without a key keeps it; the audit log says it changed, never what it is.
    with ALLOW:
        assert client.post(url, {**form, "api_key": "", "model": "acme-2"}).status_code == 302
    live.refresh_from_db()
    assert (live.api_key, live.model) == (KEY, "acme-2")
    events = AuditEvent.objects.filter(project=project, summary__startswith="Live model")
    assert [e.changes.get("api_key") for e in events.order_by("pk")] == ["changed", None]
    assert all(KEY not in json.dumps(e.changes) for e in events)
    with ALLOW:
        tried = client.post(url, {**form, "action": "try"}).content.decode()
    assert "The model answered: “You said: Reply with the word OK." in tried
    tried = client.post(url, {**form, "action": "try"}).content.decode()  # guard on: refused
    assert "127.0.0.1 is a loopback address" in tried
    with ALLOW:
        client.post(url, {**form, "api_key": "", "remove_key": "on"})
    live.refresh_from_db()
    assert live.api_key == ""
    # not for contributors (404), nor for projects of another kind
    client.force_login(ana)
    assert client.get(url).status_code == 404
    client.force_login(maria)
    ranking = make_project(kind="ranking", members={maria: Role.MANAGER})
    other = reverse("genai:model-settings", args=[ranking.pk])
    assert "Live mode is for conversation projects" in client.get(other).content.decode()
    client.post(other, form)
    assert not LiveModel.objects.filter(project=ranking).exists()


def connect(project, server):
    return LiveModel.objects.create(
        project=project, base_url=server.base_url, model="acme-chat", api_key=KEY
    )


def turn(client, project, assignment, content):
    url = reverse("genai:live-turn", args=[project.pk, assignment.pk])
    return client.post(url, json.dumps({"content": content}), content_type="application/json")


def events_of(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return [json.loads(line[5:]) for line in text.split("\n") if line.startswith("data:")]


@ALLOW
def test_a_turn_streams_back_and_the_conversation_becomes_the_task(client, live_world, server):
    project, ana, ben, _maria = live_world
    connect(project, server)
    task = make_task(project=project, data=SEED)
    assignment = queue.assignment_claim_next(project=project, contributor=ana)
    client.force_login(ana)
    response = turn(client, project, assignment, "Capital of Australia?")
    assert response["Content-Type"] == "text/event-stream"
    events = events_of(response)
    assert len([e for e in events if "delta" in e]) > 3
    done = events[-1]
    assert done["done"] is True
    assert done["index"] == 2
    assert done["message"] == {
        "role": "assistant",
        "content": "You said: Capital of Australia?. This is reply number 1.",
        "model": "acme-chat",
    }
    assert "<p>" in done["html"]["assistant"]
    task.refresh_from_db()
    assert task.data["messages"] == [SEED["messages"][0], {"role": "user",
            "content": "Capital of Australia?"}, done["message"]]  # fmt: skip
    # The second turn sends the whole conversation so far.
    events_of(turn(client, project, assignment, "And of Canada?"))
    assert [m["role"] for m in server.requests[-1]["body"]["messages"]] == [
        "system", "user", "assistant", "user"
    ]  # fmt: skip
    task.refresh_from_db()
    assert len(task.data["messages"]) == 5
    # A failing model stores nothing and says why.
    events = events_of(turn(client, project, assignment, "FAIL please"))
    assert events[-1] == {"error": "The model answered HTTP 500: The model is overloaded."}
    task.refresh_from_db()
    assert len(task.data["messages"]) == 5
    # Someone else's assignment is not found; a submitted task takes no more turns.
    client.force_login(ben)
    assert turn(client, project, assignment, "hi").status_code == 404
    client.force_login(ana)
    result = {
        "turns": [{"index": 2, "scores": {"accuracy": 5}}, {"index": 4, "scores": {"accuracy": 5}}]
    }
    queue.annotation_submit(assignment_id=assignment.pk, contributor=ana, result=result)
    refused = turn(client, project, assignment, "more?")
    assert refused.status_code == 409
    assert refused.json()["code"] == "assignment_closed"


@ALLOW
def test_turns_are_refused_before_streaming_when_they_cannot_be_sent(client, live_world, server):
    project, ana, _ben, _maria = live_world
    fixed = make_task(project=project, data={"messages": [{"role": "user", "content": "hi"},
                      {"role": "assistant", "content": "hello"}]})  # fmt: skip
    assignment = queue.assignment_claim_next(project=project, contributor=ana)
    assert assignment.task_id == fixed.pk
    client.force_login(ana)
    off = turn(client, project, assignment, "hi")
    assert (off.status_code, off.json()["code"]) == (409, "live_off")
    connect(project, server)
    assert turn(client, project, assignment, "hi").json()["code"] == "not_live"
    assert turn(client, project, assignment, "  ").status_code == 400
    most = project.task_kind.live_mode.text  # the kind's limit, not one of genai's own
    long = turn(client, project, assignment, "x" * (most + 1))
    assert (long.status_code, long.json()["detail"]) == (
        400,
        f"A message has at most {most} characters.",
    )
    bad = client.post(reverse("genai:live-turn", args=[project.pk, assignment.pk]), "{",
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 400
    assert server.requests == []


def test_a_live_seed_is_valid_data_and_needs_a_reply_before_it_is_answered(live_world):
    project, *_ = live_world
    kind = project.task_kind
    assert kind.clean_data(SEED, schema=project.schema) == SEED
    with pytest.raises(ValidationError) as refused:
        kind.clean_result({"turns": []}, schema=project.schema, data=SEED)
    assert "Talk to the model first" in str(refused.value)
