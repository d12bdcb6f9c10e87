"""A trajectory project's exports read back as training code reads them: every JSONL file loaded
with Hugging Face ``datasets`` (each column one type), the stepwise file checked column by column
against TRL's stepwise-supervision format, the verdicts CSV with ``datasets`` and ``csv``, every
ATIF row with Harbor's own trajectory model."""

import csv
import io
import json

import datasets
import pytest
from datasets import Features, Value
from harbor.models.trajectories import Trajectory

import kinds
from annotation.services import task_create
from tests.exports.helpers import answer, api, body, make_world, settle
from tests.factories import make_user
from tests.kinds.hf_datasets import load_jsonl
from tests.trajectory.samples import sample

pytestmark = pytest.mark.django_db

KIND = kinds.get("trajectory")
SCHEMA = KIND.clean_schema(KIND.default_schema())
RUN = KIND.clean_data(sample("steps"), schema=SCHEMA)
CHAT_RUN = KIND.clean_data(KIND.import_data(sample("openai")), schema=SCHEMA)
TOOL_FIX = {"step": "a3", "tool": {"name": "read_file", "arguments": {"path": "cart.py"}}}

TOOL_CALL = {"id": Value("string"), "type": Value("string"),
             "function": {"name": Value("string"), "arguments": Value("string")}}  # fmt: skip
MESSAGE = {
    "role": Value("string"),
    "content": Value("string"),
    "tool_calls": [TOOL_CALL],
    "reasoning_content": Value("string"),
    "tool_call_id": Value("string"),
    "name": Value("string"),
}


def judged(pattern: str, verdict: str, **extra) -> dict:
    words = {"c": "correct", "p": "partly correct", "w": "wrong"}
    steps = {f"a{i + 1}": {"rating": words[c]} for i, c in enumerate(pattern)}
    first = next((f"a{i + 1}" for i, c in enumerate(pattern) if c == "w"), None)
    result = {"steps": steps, "first_error": first, "verdict": verdict,
              "scores": {"efficiency": 2, "safety": 3}, **extra}  # fmt: skip
    return KIND.clean_result(result, schema=SCHEMA, data=RUN)


@pytest.fixture
def world():
    project, manager, _reviewer, contributor, _outsider = make_world(kind="trajectory")
    project.schema = SCHEMA
    project.save()
    second = make_user()
    corrected = task_create(project=project, data=RUN, external_id="run-1")
    first = judged("ccwp", "failure", corrections=[TOOL_FIX], failure_modes=["wrong tool use"],
                   critique="Read the README instead of the code.")  # fmt: skip
    answer(corrected, contributor, first)
    answer(corrected, second, judged("cwww", "partial"))
    settle(corrected, first, confidence=0.7)
    clean_chat = KIND.clean_result(
        {"steps": {s["id"]: {"rating": "correct"} for s in CHAT_RUN["steps"]
                   if s["source"] == "agent"},
         "first_error": None, "verdict": "success", "scores": {"efficiency": 5, "safety": 3}},
        schema=SCHEMA, data=CHAT_RUN,
    )  # fmt: skip
    good = task_create(project=project, data=CHAT_RUN, external_id="run-2")
    answer(good, contributor, clean_chat)
    settle(good, clean_chat)
    message_fix = judged(
        "cccw", "failure", corrections=[{"step": "a4", "content": "The tax is missing; fixing."}]
    )
    rewritten = task_create(project=project, data=RUN, external_id="run-3")
    answer(rewritten, contributor, message_fix)
    settle(rewritten, message_fix)
    uncorrected = task_create(project=project, data=RUN, external_id="run-4")
    plain = judged("cwcc", "partial")
    answer(uncorrected, contributor, plain)
    settle(uncorrected, plain)
    return project, manager, corrected, good, rewritten, uncorrected


def export(project, manager, fmt) -> bytes:
    response = api(manager).get(f"/api/v1/projects/{project.pk}/export/", {"format": fmt})
    assert response.status_code == 200, response.content
    return body(response)


def test_the_formats_offered(world):
    project, manager, *_ = world
    response = api(manager).get(f"/api/v1/projects/{project.pk}/export/", {"format": "coco"})
    assert response.json()["formats"][:6] == [
        "stepwise", "sft", "dpo", "verdicts", "verdicts_csv", "atif",
    ]  # fmt: skip


def test_stepwise_supervision_is_trls_format_column_by_column(world, tmp_path):
    project, manager, *_ = world
    ds = load_jsonl(tmp_path, export(project, manager, "stepwise"))
    # TRL's stepwise supervision: a prompt, the steps as completions, one boolean per step.
    assert ds.features == Features(
        {"prompt": Value("string"), "completions": [Value("string")], "labels": [Value("bool")]}
    )
    assert ds.column_names == ["prompt", "completions", "labels"]
    rows = list(ds)
    assert len(rows) == 4
    first = rows[0]
    assert first["prompt"] == "The test test_total fails. Find out why and fix it."
    assert first["completions"] == [
        "(thinking) I should run the failing test first.",
        'run_tests({"target": "tests/test_cart.py"})\n'
        "[environment observation] FAILED test_total: assert 30 == 33",
        'read_file({"path": "README.md"})\n[environment observation] # Cart\nA shopping cart.',
        "The test expects tax to be included; I changed the test to expect 30.",
    ]
    assert first["labels"] == [True, True, False, False]
    assert all(len(r["completions"]) == len(r["labels"]) for r in rows)
    assert (
        rows[1]["prompt"]
        == "You are a coding agent.\n\nThe test test_total fails. Find out why and fix it."
    )
    assert all(rows[1]["labels"])


def test_sft_is_the_corrected_run_with_tool_calls_and_a_tools_column(world, tmp_path):
    project, manager, corrected, good, rewritten, _ = world
    ds = load_jsonl(tmp_path, export(project, manager, "sft"))
    assert ds.features == Features(
        {"messages": [MESSAGE], "tools": Value("string"), "task_id": Value("int64"),
         "external_id": Value("string"), "source": Value("string")}
    )  # fmt: skip
    rows = {row["task_id"]: row for row in ds}
    assert set(rows) == {corrected.pk, good.pk, rewritten.pk}  # run-4 has no correction
    messages = rows[corrected.pk]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[1]["reasoning_content"] == "I should run the failing test first."
    assert messages[1]["tool_calls"][0]["function"] == {
        "name": "run_tests",
        "arguments": '{"target": "tests/test_cart.py"}',
    }
    assert (messages[2]["tool_call_id"], messages[2]["name"]) == ("c1", "run_tests")
    assert messages[3]["tool_calls"][0]["function"] == {
        "name": "read_file",
        "arguments": '{"path": "cart.py"}',
    }
    tools = json.loads(rows[corrected.pk]["tools"])
    assert [t["function"]["name"] for t in tools] == ["read_file", "run_tests"]
    assert tools[0]["function"]["parameters"]["required"] == ["path"]
    assert rows[good.pk]["source"] == "run"
    assert rows[good.pk]["messages"][-1]["content"] == "Tax was missing from total(); fixed."
    assert rows[rewritten.pk]["messages"][-1]["content"] == "The tax is missing; fixing."


def test_dpo_at_the_divergence_is_a_conversational_preference(world, tmp_path):
    project, manager, corrected, _good, rewritten, _ = world
    ds = load_jsonl(tmp_path, export(project, manager, "dpo"))
    # A key no chosen turn uses (the reasoning here) loads as null: still one type per column.
    chosen = {**MESSAGE, "reasoning_content": Value("null"), "tool_call_id": Value("null"),
              "name": Value("null")}  # fmt: skip
    assert ds.features == Features(
        {"prompt": [MESSAGE], "chosen": [chosen], "rejected": [chosen], "tools": Value("string"),
         "task_id": Value("int64"), "external_id": Value("string"), "step": Value("string")}
    )  # fmt: skip
    rows = {row["task_id"]: row for row in ds}
    assert set(rows) == {corrected.pk, rewritten.pk}
    pair = rows[corrected.pk]
    assert [m["role"] for m in pair["prompt"]] == ["user", "assistant", "tool"]
    assert pair["chosen"][0]["tool_calls"][0]["function"]["arguments"] == '{"path": "cart.py"}'
    assert pair["rejected"][0]["tool_calls"][0]["function"]["arguments"] == '{"path": "README.md"}'
    assert pair["step"] == "a3"
    message = rows[rewritten.pk]
    assert message["chosen"][0]["content"] == "The tax is missing; fixing."
    assert message["rejected"][0]["content"].startswith("The test expects tax")


def test_verdicts_jsonl_and_csv(world, tmp_path):
    project, manager, corrected, good, *_ = world
    ds = load_jsonl(tmp_path, export(project, manager, "verdicts"))
    assert ds.features == Features(
        {
            "task_id": Value("int64"), "external_id": Value("string"),
            "verdict": Value("string"), "confidence": Value("float64"),
            "first_error": Value("string"), "wrong_steps": Value("int64"),
            "scores": {"efficiency": Value("int64"), "safety": Value("int64")},
            "failure_modes": [Value("string")], "critique": Value("string"),
            "answers": [{"contributor": Value("string"), "verdict": Value("string"),
                         "first_error": Value("string")}],
        }
    )  # fmt: skip
    rows = {row["task_id"]: row for row in ds}
    assert rows[corrected.pk]["verdict"] == "failure"
    assert rows[corrected.pk]["wrong_steps"] == 2  # a3 wrong, a4 partly correct
    assert [a["verdict"] for a in rows[corrected.pk]["answers"]] == ["failure", "partial"]
    assert rows[good.pk]["first_error"] is None
    content = export(project, manager, "verdicts_csv")
    path = tmp_path / "verdicts.csv"
    path.write_bytes(content)
    loaded = datasets.load_dataset("csv", data_files=str(path), split="train")
    # Each column one scalar type (``datasets`` may read text as large_string).
    assert {name: f.dtype.removeprefix("large_") for name, f in loaded.features.items()} == {
        "task_id": "int64", "external_id": "string", "verdict": "string",
        "confidence": "float64", "first_error": "string", "score:efficiency": "int64",
        "score:safety": "int64", "wrong_steps": "int64", "failure_modes": "string",
        "critique": "string", "contributors": "string", "verdicts": "string",
    }  # fmt: skip
    assert loaded.num_rows == 4
    table = list(csv.DictReader(io.StringIO(content.decode())))
    first = next(r for r in table if r["task_id"] == str(corrected.pk))
    assert first["score:efficiency"] == "2"
    assert first["failure_modes"] == "wrong tool use"
    assert first["verdicts"].count("=") == 2


def test_atif_comes_back_with_the_labels_attached(world, tmp_path):
    project, manager, corrected, *_ = world
    content = export(project, manager, "atif")
    _exported_atif(project, manager)
    ds = load_jsonl(tmp_path, content)
    assert {"schema_version", "session_id", "agent", "steps", "extra"} <= set(ds.column_names)
    runs = [json.loads(line) for line in content.splitlines()]
    trajectories = {t["extra"]["labelhub"]["task_id"]: t for t in runs}
    run = trajectories[corrected.pk]
    assert run["schema_version"].startswith("ATIF-v1.")
    assert [s["source"] for s in run["steps"]] == ["user", "agent", "agent", "agent"]
    reading = run["steps"][2]
    assert reading["tool_calls"] == [
        {"tool_call_id": "c2", "function_name": "read_file", "arguments": {"path": "README.md"}}
    ]
    assert reading["observation"]["results"] == [
        {"source_call_id": "c2", "content": "# Cart\nA shopping cart."}
    ]
    label = reading["extra"]["labelhub"][0]
    assert label["rating"] == "wrong"
    assert label["correction"] == {"tool": {"name": "read_file", "arguments": {"path": "cart.py"}}}
    assert run["extra"]["labelhub"]["verdict"] == "failure"
    assert run["extra"]["labelhub"]["first_error"] == "a3"


def _exported_atif(project, manager) -> dict[int, dict]:
    """Every exported ATIF row, each checked by Harbor's own trajectory model."""
    runs = [json.loads(line) for line in export(project, manager, "atif").splitlines()]
    for run in runs:
        Trajectory.model_validate(run)
    return {run["extra"]["labelhub"]["task_id"]: run for run in runs}


def test_every_atif_row_is_valid_atif_by_harbors_own_model(world):
    project, manager, _corrected, good, *_ = world
    runs = _exported_atif(project, manager)
    assert len(runs) == 4
    # The run's tools go out as the agent's tool definitions (OpenAI's function shape).
    tools = runs[good.pk]["agent"]["tool_definitions"]
    assert [t["function"]["name"] for t in tools] == ["read_file", "run_tests"]
    assert tools[0]["function"]["parameters"]["required"] == ["path"]


def test_a_screenshot_goes_out_as_an_image_content_part(world):
    project, manager, *_ = world
    data = KIND.clean_data(sample("steps"), schema=SCHEMA)
    data["steps"].insert(
        4,
        {
            "id": "s1",
            "source": "environment",
            "type": "screenshot",
            "image": "/media/shots/cart.png",
            "click": {"x": 3, "y": 4},
        },
    )
    data["steps"][3]["image"] = "data:image/jpeg;base64,AAAA"
    task = task_create(project=project, data=data, external_id="shots")
    result = judged("cccc", "success")
    answer(task, make_user(), result)
    settle(task, result)
    run = _exported_atif(project, manager)[task.pk]
    assert run["schema_version"] == "ATIF-v1.6"
    first_result, screenshot = run["steps"][1]["observation"]["results"]
    assert first_result == {
        "source_call_id": "c1",
        "content": [
            {"type": "text", "text": "FAILED test_total: assert 30 == 33"},
            {"type": "image", "source": {"media_type": "image/jpeg",
                                         "path": "data:image/jpeg;base64,AAAA"}},
        ],
    }  # fmt: skip
    assert screenshot == {
        "content": [
            {"type": "image", "source": {"media_type": "image/png",
                                         "path": "/media/shots/cart.png"}},
        ]
    }  # fmt: skip


def test_an_atif_import_goes_back_out_as_it_came_in_plus_the_labels(world):
    project, manager, *_ = world
    data = KIND.clean_data(KIND.import_data(sample("atif")), schema=SCHEMA)
    task = task_create(project=project, data=data, external_id="atif-1")
    agents = [s["id"] for s in data["steps"] if s["source"] == "agent"]
    result = KIND.clean_result(
        {"steps": {i: {"rating": "correct"} for i in agents}, "first_error": None,
         "verdict": "success", "scores": {"efficiency": 4, "safety": 3}},
        schema=SCHEMA, data=data,
    )  # fmt: skip
    answer(task, make_user(), result)
    settle(task, result)
    run = _exported_atif(project, manager)[task.pk]
    original = sample("atif")
    labels = run["extra"].pop("labelhub")
    assert labels["verdict"] == "success"
    assert labels["reward"] == 1.0
    # Apart from the labels: steps, timestamps, models, metrics, tools, images, session and
    # final metrics as they came in.
    for step in run["steps"]:
        extra = step.pop("extra", {})
        step_labels = extra.pop("labelhub", [])
        if step["source"] == "agent":
            assert step_labels
            assert {label["rating"] for label in step_labels} == {"correct"}
        if extra:
            step["extra"] = extra
    assert run == original


def test_a_partly_correct_step_before_the_first_wrong_one_is_where_sft_and_dpo_diverge(tmp_path):
    """Stepwise labels a "partly correct" step false (correct_ratings 1): SFT must not train on
    it as it is, and its correction is what SFT and DPO use."""
    project, manager, *_ = make_world(kind="trajectory")
    project.schema = SCHEMA
    project.save()
    fix = {"step": "a2", "tool": {"name": "run_tests", "arguments": {"target": "tests"}}}
    corrected = task_create(project=project, data=RUN, external_id="partly-fixed")
    answer_fixed = judged("cpwc", "partial", corrections=[fix, TOOL_FIX])
    answer(corrected, make_user(), answer_fixed)
    settle(corrected, answer_fixed)
    uncorrected = task_create(project=project, data=RUN, external_id="partly-left")
    answer_left = judged("cpwc", "partial", corrections=[TOOL_FIX])
    answer(uncorrected, make_user(), answer_left)
    settle(uncorrected, answer_left)
    stepwise = [json.loads(line) for line in export(project, manager, "stepwise").splitlines()]
    assert [row["labels"] for row in stepwise] == [[True, False, False, True]] * 2
    sft = [json.loads(line) for line in export(project, manager, "sft").splitlines()]
    # The run whose partly correct step has no correction gives no row: its a2 is not a target.
    assert [row["external_id"] for row in sft] == ["partly-fixed"]
    last = sft[0]["messages"][-1]
    assert last["tool_calls"][0]["function"]["arguments"] == '{"target": "tests"}'
    assert "README" not in json.dumps(sft[0]["messages"])
    dpo = [json.loads(line) for line in export(project, manager, "dpo").splitlines()]
    assert [(row["external_id"], row["step"]) for row in dpo] == [("partly-fixed", "a2")]
    assert dpo[0]["rejected"][0]["tool_calls"][0]["function"]["arguments"] == (
        '{"target": "tests/test_cart.py"}'
    )
