"""Agent runs imported in each format: converted into the step model with what a person needs to
judge them, the format detected per row or named; a broken row refuses the whole import and
names its row and field."""

import copy
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from harbor.models.trajectories import Trajectory
from rest_framework.test import APIClient

import kinds
from annotation.importing import ImportRejected, rows_from_items
from annotation.imports import tasks_import
from annotation.models import Task
from kinds.trajectory.importers import FORMATS, detect
from labelhub.models import Role
from tests.factories import make_project, make_user
from tests.trajectory.samples import OTEL_CHAT_ONLY, SAMPLES, WEATHER_TOOL, sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return make_project(kind="trajectory")


def imported(project, *rows, import_format: str = "") -> list[dict]:
    tasks_import(
        project=project, rows=rows_from_items(list(rows), label="item"), import_format=import_format
    )
    return [task.data for task in Task.objects.filter(project=project).order_by("pk")]


def shape(data: dict) -> list[tuple]:
    return [(s["source"], s["type"]) for s in data["steps"]]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_format_is_detected_from_its_keys(name):
    assert detect(sample(name)) == name


def test_openai_chat_with_tool_calls_and_tool_replies(project):
    (data,) = imported(project, sample("openai"))
    assert data["instruction"] == "The test test_total fails. Find out why and fix it."
    assert shape(data) == [
        ("system", "message"), ("user", "message"), ("agent", "tool_call"),
        ("environment", "observation"), ("agent", "message"), ("agent", "tool_call"),
        ("environment", "observation"), ("agent", "message"),
    ]  # fmt: skip
    call, reply = data["steps"][2], data["steps"][3]
    assert call["tool"] == {"name": "run_tests", "arguments": {"target": "tests/test_cart.py"}}
    assert reply["call_id"] == call["call_id"] == "call_1"
    assert [t["name"] for t in data["tools"]] == ["read_file", "run_tests"]
    assert data["tools"][0]["parameters"]["required"] == ["path"]


def test_anthropic_blocks_keep_thinking_tool_use_and_errors(project):
    (data,) = imported(project, sample("anthropic"))
    assert shape(data) == [
        ("system", "message"), ("user", "message"), ("agent", "reasoning"), ("agent", "message"),
        ("agent", "tool_call"), ("environment", "observation"), ("agent", "tool_call"),
        ("environment", "error"), ("agent", "message"),
    ]  # fmt: skip
    assert data["steps"][2]["content"] == "Run the test first."
    assert data["steps"][5] == {
        "id": "6", "source": "environment", "type": "observation", "content": "1 failed",
        "call_id": "toolu_01",
    }  # fmt: skip
    assert data["steps"][7]["content"] == "No such file"
    assert data["tools"][1]["parameters"]["properties"]["verbose"] == {"type": "boolean"}


def test_anthropic_server_tools_keep_their_results(project):
    row = {
        "tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
        "messages": [
            {"role": "user", "content": "Who maintains the cart library?"},
            {"role": "assistant", "content": [
                {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search",
                 "input": {"query": "cart library maintainers"}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01", "content": [
                    {"type": "web_search_result", "url": "https://example.com/cart",
                     "title": "Cart", "encrypted_content": "abc"}]},
                {"type": "server_tool_use", "id": "srvtoolu_02", "name": "web_search",
                 "input": {"query": "cart maintainers 2026"}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_02", "content": {
                    "type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}},
                {"type": "text", "text": "The Cart team maintains it."},
            ]},
        ],
    }  # fmt: skip
    (data,) = imported(project, row)
    assert shape(data) == [
        ("user", "message"), ("agent", "tool_call"), ("environment", "observation"),
        ("agent", "tool_call"), ("environment", "error"), ("agent", "message"),
    ]  # fmt: skip
    assert data["steps"][2]["call_id"] == "srvtoolu_01"
    assert "https://example.com/cart" in data["steps"][2]["content"]
    assert "max_uses_exceeded" in data["steps"][4]["content"]
    assert data["tools"] == [{"name": "web_search"}]


def test_openai_agents_trace_spans(project):
    (data,) = imported(project, sample("openai_agents"))
    assert shape(data) == [
        ("system", "message"), ("user", "message"), ("agent", "message"), ("agent", "tool_call"),
        ("environment", "observation"), ("environment", "observation"), ("agent", "message"),
    ]  # fmt: skip
    generation, call = data["steps"][2], data["steps"][3]
    assert generation["metrics"] == {"latency_ms": 1500.0, "input_tokens": 120, "output_tokens": 12}
    assert call["tool"] == {"name": "run_tests", "arguments": {"target": "tests/test_cart.py"}}
    assert data["steps"][4]["content"] == "1 failed, 3 passed"
    assert data["steps"][6]["content"] == "Hands off from Fixer to Reviewer"
    assert data["metadata"]["openai_agents"]["workflow_name"] == "Cart fixer"


def test_openai_agents_exporter_batch_shape(project):
    trace = sample("openai_agents")
    batch = {"data": [trace["trace"], *trace["spans"]]}
    (data,) = imported(project, batch, import_format="openai_agents")
    assert [s["type"] for s in data["steps"]][:4] == ["message", "message", "message", "tool_call"]


def test_an_agents_batch_with_two_traces_is_refused_at_the_second(project):
    first, second = sample("openai_agents"), sample("openai_agents")
    second["trace"]["id"] = "trace_fedcba9876543210fedcba9876543210"
    for span in second["spans"]:
        span["trace_id"] = second["trace"]["id"]
    batch = {"data": [first["trace"], *first["spans"], second["trace"], *second["spans"]]}
    with pytest.raises(ImportRejected) as refused:
        imported(project, batch)
    (problem,) = refused.value.problems
    assert problem.field == f"data.data.{len(first['spans']) + 1}.id"
    assert "a row is one run" in problem.message
    assert Task.objects.filter(project=project).count() == 0


def test_a_span_of_another_trace_in_an_agents_export_is_refused_where_it_is(project):
    row = sample("openai_agents")
    row["spans"][3]["trace_id"] = "trace_fedcba9876543210fedcba9876543210"
    with pytest.raises(ImportRejected) as refused:
        imported(project, row)
    (problem,) = refused.value.problems
    assert problem.field == "data.spans.3.trace_id"


def test_an_otlp_file_with_two_traces_is_refused_at_the_second(project):
    row = sample("otel")
    other = copy.deepcopy(row["resourceSpans"][0])
    for span in other["scopeSpans"][0]["spans"]:
        span["traceId"] = "0af7651916cd43dd8448eb211c80319c"
    row["resourceSpans"].append(other)
    with pytest.raises(ImportRejected) as refused:
        imported(project, row)
    (problem,) = refused.value.problems
    assert problem.field == "data.resourceSpans.1.scopeSpans.0.spans.0.traceId"
    assert "0af7651916cd43dd8448eb211c80319c" in problem.message
    assert Task.objects.filter(project=project).count() == 0


def test_otel_genai_spans_in_otlp_json(project):
    (data,) = imported(project, sample("otel"))
    assert shape(data) == [
        ("user", "message"), ("agent", "message"), ("agent", "tool_call"),
        ("environment", "observation"), ("agent", "tool_call"), ("environment", "error"),
    ]  # fmt: skip
    assert data["steps"][1]["metrics"] == {
        "latency_ms": 1000.0,
        "input_tokens": 300,
        "output_tokens": 25,
    }
    assert data["steps"][3] == {
        "id": "4", "source": "environment", "type": "observation", "content": "1 failed",
        "call_id": "call_a", "metrics": {"latency_ms": 1500.0},
    }  # fmt: skip
    # A tool span whose call the model's output did not carry becomes the call itself.
    assert data["steps"][4]["tool"] == {"name": "read_file", "arguments": {"path": "nope.py"}}
    assert data["steps"][5]["content"] == "file not found"
    assert data["metadata"] == {"model": "gpt-x"}


def test_otel_chat_spans_alone_keep_the_tools_answers_and_definitions(project):
    (data,) = imported(project, OTEL_CHAT_ONLY)
    assert shape(data) == [
        ("user", "message"), ("agent", "tool_call"), ("environment", "observation"),
        ("agent", "message"),
    ]  # fmt: skip
    call, reply = data["steps"][1], data["steps"][2]
    assert call["tool"] == {"name": "get_weather", "arguments": {"location": "Paris"}}
    assert reply == {"id": "3", "source": "environment", "type": "observation",
                     "content": "rainy, 14 C", "call_id": "call_w1"}  # fmt: skip
    assert data["steps"][3]["content"] == "It is raining in Paris, 14 C."
    assert data["tools"] == [
        {"name": "get_weather", "description": "Get the current weather in a city.",
         "parameters": WEATHER_TOOL["parameters"]}
    ]  # fmt: skip


def test_the_atif_sample_is_valid_atif_by_harbors_own_model():
    Trajectory.model_validate(sample("atif"))


def test_harbor_atif_keeps_metrics_reward_tools_images_and_its_identity(project):
    (data,) = imported(project, sample("atif"))
    assert shape(data) == [
        ("system", "message"), ("user", "message"), ("agent", "reasoning"), ("agent", "message"),
        ("agent", "tool_call"), ("environment", "observation"), ("agent", "tool_call"),
        ("environment", "observation"), ("agent", "message"),
    ]  # fmt: skip
    assert data["instruction"] == "Create hello.txt containing hi."
    assert data["steps"][2]["metrics"] == {
        "input_tokens": 520,
        "output_tokens": 42,
        "cost_usd": 0.0031,
    }
    assert data["steps"][4]["call_id"] == data["steps"][5]["call_id"] == "call_1"
    # An image content part in a result is the observation's screenshot.
    assert data["steps"][7] == {
        "id": "8", "source": "environment", "type": "observation", "content": "The terminal:",
        "call_id": "call_2", "image": "https://example.com/shots/terminal.png",
    }  # fmt: skip
    # The agent's tool definitions are the run's tools: corrections are checked against them.
    assert [t["name"] for t in data["tools"]] == ["bash", "screenshot"]
    assert data["tools"][0]["parameters"]["required"] == ["command"]
    assert data["outcome"] == {"reward": 1.0}  # from the trajectory's extra
    atif = data["metadata"]["atif"]
    assert atif["session_id"] == "sess-42"
    assert atif["final_metrics"]["total_steps"] == 5
    assert [(s["step_id"], s["ids"], s["timestamp"]) for s in atif["steps"]][2:4] == [
        (3, ["3", "4", "5", "6"], "2026-11-02T10:00:02Z"),
        (4, ["7", "8"], "2026-11-02T10:00:03Z"),
    ]
    assert atif["steps"][3]["model_name"] == "model-y"


def test_an_atif_row_with_a_verifier_result_is_told_where_the_reward_goes(project):
    row = sample("atif")
    row.pop("extra")
    row["verifier_result"] = {"rewards": {"reward": 1.0}}
    with pytest.raises(ImportRejected) as refused:
        imported(project, row)
    (problem,) = refused.value.problems
    assert problem.field == "data.verifier_result"
    assert "extra.reward" in problem.message


def test_swe_agent_traj_thoughts_actions_observations(project):
    (data,) = imported(project, sample("swe_agent"))
    assert data["instruction"] == "Fix issue #12: total() ignores tax."
    assert shape(data)[:4] == [
        ("user", "message"), ("agent", "reasoning"), ("agent", "tool_call"),
        ("environment", "observation"),
    ]  # fmt: skip
    assert data["steps"][2]["tool"] == {
        "name": "find_file",
        "arguments": {"command": "find_file cart.py"},
    }
    assert data["steps"][3]["metrics"] == {"latency_ms": 400.0}
    # model_stats are the run's totals: on its last agent step.
    assert data["steps"][-2]["metrics"] == {
        "cost_usd": 0.12,
        "input_tokens": 9000,
        "output_tokens": 400,
    }
    assert "exit status: submitted" in data["outcome"]["notes"]


def test_the_step_model_is_kept_as_it_is(project):
    (data,) = imported(project, sample("steps"))
    assert data["steps"] == sample("steps")["steps"]
    assert data["outcome"] == {"reward": 0.0, "notes": "tests still fail upstream"}


def test_formats_are_detected_row_by_row_in_one_file(project):
    rows = [sample(name) for name in SAMPLES]
    assert len(imported(project, *rows)) == len(SAMPLES)


BROKEN = {
    "steps": (
        lambda row: row["steps"][1].update(type="dance"),
        "data.steps.1.type",
    ),
    "openai": (
        lambda row: row["messages"][2]["tool_calls"][0]["function"].update(arguments="{oops"),
        "data.messages.2.tool_calls.0.function.arguments",
    ),
    "anthropic": (
        lambda row: row["messages"][2]["content"][0].update(tool_use_id="toolu_99"),
        "data.messages.2.content.0.tool_use_id",
    ),
    "openai_agents": (
        lambda row: row["spans"][2]["span_data"].pop("name"),
        "data.spans.2.span_data.name",
    ),
    "otel": (
        lambda row: row["resourceSpans"][0]["scopeSpans"][0]["spans"][3]["attributes"][3]
        .update(value={"stringValue": "{not json"}),
        "data.resourceSpans.0.scopeSpans.0.spans.3.attributes.gen_ai.tool.call.arguments",
    ),
    "atif": (
        lambda row: row["steps"][2]["observation"]["results"][0].update(source_call_id="call_9"),
        "data.steps.2.observation.results.0.source_call_id",
    ),
    "swe_agent": (
        lambda row: row["trajectory"][1].pop("action"),
        "data.trajectory.1.action",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_broken_row_refuses_the_import_naming_its_row_and_field(project, name):
    breaks, field = BROKEN[name]
    broken = sample(name)
    breaks(broken)
    rows = [sample(name), broken, sample(name)]
    with pytest.raises(ImportRejected) as refused:
        imported(project, *rows)
    (problem,) = refused.value.problems
    assert (problem.where, problem.field) == ("item 2", field)
    assert Task.objects.filter(project=project).count() == 0


def _otel_second_call_reuses_the_first_id(row: dict) -> None:
    chat = row["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    output = json.loads(chat["attributes"][5]["value"]["stringValue"])
    output[0]["parts"].append(dict(output[0]["parts"][1]))
    chat["attributes"][5]["value"]["stringValue"] = json.dumps(output)


def _openai_reuses_a_call_id(row: dict) -> None:
    row["messages"][4]["tool_calls"][0]["id"] = "call_1"
    row["messages"][5]["tool_call_id"] = "call_1"


# Problems the step model's own checks find after the conversion, named in the row's terms.
BROKEN_AFTER_CONVERSION = {
    "openai duplicate call id": (
        "openai", _openai_reuses_a_call_id, "data.messages.4.tool_calls.0.id",
    ),
    "openai empty function name": (
        "openai",
        lambda row: row["messages"][2]["tool_calls"][0]["function"].update(name=" "),
        "data.messages.2.tool_calls.0.function.name",
    ),
    "openai tool parameters": (
        "openai",
        lambda row: row["tools"][1]["function"].update(parameters={"type": "nope"}),
        "data.tools.1.function.parameters",
    ),
    "anthropic file image": (
        "anthropic",
        lambda row: row["messages"][2]["content"].append(
            {"type": "image", "source": {"type": "file", "file_id": "file_01"}}
        ),
        "data.messages.2.content.1.source",
    ),
    "agents empty function name": (
        "openai_agents",
        lambda row: row["spans"][2]["span_data"].update(name=""),
        "data.spans.2.span_data.name",
    ),
    "otel duplicate call id": (
        "otel",
        _otel_second_call_reuses_the_first_id,
        "data.resourceSpans.0.scopeSpans.0.spans.1.attributes.gen_ai.output.messages.0.parts.2.id",
    ),
    "atif tool parameters": (
        "atif",
        lambda row: row["agent"]["tool_definitions"][0]["function"].update(
            parameters={"type": "nope"}
        ),
        "data.agent.tool_definitions.0.function.parameters",
    ),
    "atif empty function name": (
        "atif",
        lambda row: row["steps"][3]["tool_calls"][0].update(function_name=" "),
        "data.steps.3.tool_calls.0.function_name",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN_AFTER_CONVERSION))
def test_a_problem_found_after_the_conversion_names_the_rows_own_field(project, case):
    name, breaks, field = BROKEN_AFTER_CONVERSION[case]
    broken = sample(name)
    breaks(broken)
    with pytest.raises(ImportRejected) as refused:
        imported(project, sample(name), broken)
    (problem,) = refused.value.problems
    assert (problem.where, problem.field) == ("item 2", field)
    assert problem.message.startswith(FORMATS[name])
    assert Task.objects.filter(project=project).count() == 0


def test_a_tool_reply_to_no_call_is_refused_where_it_is(project):
    row = sample("openai")
    row["messages"][3]["tool_call_id"] = "call_9"
    with pytest.raises(ImportRejected) as refused:
        imported(project, row)
    (problem,) = refused.value.problems
    assert problem.field == "data.messages.3.tool_call_id"


def test_a_row_in_no_known_format_is_refused(project):
    with pytest.raises(ImportRejected) as refused:
        imported(project, {"conversation": []})
    (problem,) = refused.value.problems
    assert problem.field == "data"
    assert "Not an agent run" in problem.message


def test_the_api_takes_the_format_named_and_refuses_a_row_that_is_not_in_it():
    maria = make_user("maria")
    project = make_project(kind="trajectory", members={maria: Role.MANAGER})
    client = APIClient()
    client.force_authenticate(maria)
    url = f"/api/v1/projects/{project.pk}/tasks/"
    created = client.post(f"{url}?format=atif", [sample("atif")], format="json")
    assert created.status_code == 201, created.content
    assert Task.objects.get(project=project).data["metadata"]["atif"]["session_id"] == "sess-42"
    refused = client.post(f"{url}?format=atif", [sample("openai")], format="json")
    assert refused.status_code == 400
    assert refused.json()["problems"][0]["where"] == "item 1"
    assert refused.json()["problems"][0]["field"] == "data.steps"
    unknown = client.post(f"{url}?format=xml", [sample("atif")], format="json")
    assert unknown.status_code == 400
    assert unknown.json()["problems"][0]["field"] == "format"
    assert Task.objects.filter(project=project).count() == 1


def test_a_jsonl_file_of_traces_imports_through_the_page_with_the_format_chosen(
    client, django_capture_on_commit_callbacks
):
    maria = make_user("maria")
    project = make_project(kind="trajectory", members={maria: Role.MANAGER})
    client.force_login(maria)
    page = client.get(f"/projects/{project.pk}/tasks/")
    assert b"The rows are in" in page.content
    assert b"SWE-agent .traj" in page.content
    lines = "\n".join(json.dumps(sample("swe_agent")) for _ in range(2)).encode()
    upload = SimpleUploadedFile("runs.jsonl", lines, content_type="application/x-ndjson")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/projects/{project.pk}/tasks/import/", {"files": upload, "format": "swe_agent"}
        )
    assert response.status_code == 302
    assert Task.objects.filter(project=project).count() == 2


def test_a_single_traj_file_is_one_run(client, django_capture_on_commit_callbacks):
    maria = make_user("maria")
    project = make_project(kind="trajectory", members={maria: Role.MANAGER})
    client.force_login(maria)
    upload = SimpleUploadedFile("issue-12.traj", json.dumps(sample("swe_agent")).encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{project.pk}/tasks/import/", {"files": upload})
    assert response.status_code == 302
    (task,) = Task.objects.filter(project=project)
    assert task.data["instruction"] == "Fix issue #12: total() ignores tax."


def test_a_correction_of_an_atif_run_is_checked_against_the_agents_tool_definitions():
    kind = kinds.get("trajectory")
    schema = kind.clean_schema(kind.default_schema())
    data = kind.clean_data(kind.import_data(sample("atif")), schema=schema)
    ratings = {"3": "correct", "4": "correct", "5": "wrong", "7": "wrong", "9": "wrong"}
    answer = {
        "steps": {step: {"rating": rating} for step, rating in ratings.items()},
        "first_error": "5",
        "verdict": "failure",
        "scores": {"efficiency": 2, "safety": 3},
        "corrections": [{"step": "5", "tool": {"name": "bash", "arguments": {"cmd": "ls"}}}],
    }
    with pytest.raises(ValidationError) as refused:
        kind.clean_result(answer, schema=schema, data=data)
    assert list(refused.value.message_dict) == ["result.corrections.0.tool.arguments"]
    assert "'command' is a required property" in str(refused.value)
    answer["corrections"][0]["tool"]["arguments"] = {"command": "printf hi > hello.txt"}
    assert kind.clean_result(answer, schema=schema, data=data)["corrections"]
