"""A conversation project's exports, read back as training code reads them: SFT and DPO with
Hugging Face ``datasets`` (TRL's formats), the rubric CSV with ``csv``, the rest as JSON lines."""

import csv
import io
import json

import pytest
from datasets import Features, Value

import kinds
from quality.models import Review, ReviewReason, TaskOutcome, Verdict
from tests.exports.helpers import answer, api, body, make_world, settle
from tests.factories import make_task, make_user
from tests.kinds.hf_datasets import CONVERSATIONAL, MESSAGES, load_jsonl

pytestmark = pytest.mark.django_db

SCHEMA = kinds.get("conversation").clean_schema(
    {
        "modes": ["rate", "rewrite", "write", "compare"],
        "criteria": [
            {"name": "accuracy", "scale": 5, "per": "turn"},
            {"name": "overall", "scale": 3, "per": "conversation"},
        ],
        "error_types": [{"name": "factual error", "severity": "major"}],
        "write": "reply",
    }
)
CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Capital of Australia?"},
    {"role": "assistant", "content": "Sydney.", "model": "m-1"},
    {"role": "user", "content": "And of Canada?"},
    {"role": "assistant", "content": "Ottawa.", "model": "m-1"},
]
SFT = Features(
    {
        "messages": MESSAGES,
        "task_id": Value("int64"),
        "external_id": Value("string"),
        "turn": Value("int64"),
        "source": Value("string"),
    }
)


def turn(index, accuracy, **extra):
    return {"index": index, "scores": {"accuracy": accuracy}, "spans": [], **extra}


@pytest.fixture
def world():
    project, manager, _reviewer, contributor, _outsider = make_world(kind="conversation")
    project.schema = SCHEMA
    project.save()
    second = make_user()
    rated = make_task(project=project, data={"messages": CHAT}, external_id="chat-1")
    first_answer = {
        "turns": [turn(2, 1, rewrite="Canberra."), turn(4, 5)],
        "scores": {"overall": 2},
    }
    answer(rated, contributor, first_answer)
    answer(rated, second, {"turns": [turn(2, 2), turn(4, 4)], "scores": {"overall": 3}})
    settle(rated, first_answer, confidence=0.8)
    compared = make_task(
        project=project,
        data={
            "messages": CHAT[:4],
            "candidates": [{"id": "a", "content": "Toronto."}, {"id": "b", "content": "Ottawa."}],
        },
        external_id="chat-2",
    )
    compare_answer = {
        "turns": [turn(2, 1)],
        "scores": {"overall": 2},
        "order": ["b", "a"],
        "candidates": [
            {"id": "a", "scores": {"accuracy": 1}, "spans": []},
            {"id": "b", "scores": {"accuracy": 5}, "spans": []},
        ],
        "written": [{"role": "assistant", "content": "Ottawa is the capital of Canada."}],
    }
    answer(compared, contributor, compare_answer)
    settle(compared, compare_answer)
    return project, manager, rated, compared


def export(project, manager, fmt) -> bytes:
    response = api(manager).get(f"/api/v1/projects/{project.pk}/export/", {"format": fmt})
    assert response.status_code == 200, response.content
    return body(response)


def test_the_formats_offered(world):
    project, manager, *_ = world
    response = api(manager).get(f"/api/v1/projects/{project.pk}/export/", {"format": "coco"})
    assert response.json()["formats"] == [
        "sft",
        "dpo",
        "rubric",
        "rubric_csv",
        "jsonl",
        "audit",
        "contributors",
    ]


def test_sft_loads_with_datasets_and_every_row_ends_with_an_assistant_turn(world, tmp_path):
    project, manager, rated, compared = world
    ds = load_jsonl(tmp_path, export(project, manager, "sft"))
    assert ds.features == SFT
    assert all(row["messages"][-1]["role"] == "assistant" for row in ds)
    rows = {(row["task_id"], row["source"]): row for row in ds}
    assert set(rows) == {(rated.pk, "rewrite"), (compared.pk, "written")}
    rewrite = rows[rated.pk, "rewrite"]["messages"]
    assert rewrite == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of Australia?"},
        {"role": "assistant", "content": "Canberra."},  # in place of "Sydney.", and no later turn
    ]
    written = rows[compared.pk, "written"]["messages"]
    assert written[:4] == [{"role": m["role"], "content": m["content"]} for m in CHAT[:4]]
    assert written[4] == {"role": "assistant", "content": "Ottawa is the capital of Canada."}
    assert rows[compared.pk, "written"]["turn"] == 4


def test_dpo_loads_as_trl_conversational_preferences(world, tmp_path):
    project, manager, rated, compared = world
    ds = load_jsonl(tmp_path, export(project, manager, "dpo"))
    assert ds.features == CONVERSATIONAL
    rows = {row["task_id"]: row for row in ds}
    assert rows[rated.pk]["prompt"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of Australia?"},
    ]
    assert rows[rated.pk]["chosen"] == [{"role": "assistant", "content": "Canberra."}]
    assert rows[rated.pk]["rejected"] == [{"role": "assistant", "content": "Sydney."}]
    assert (rows[rated.pk]["chosen_id"], rows[rated.pk]["rejected_id"]) == ("rewrite:2", "turn:2")
    assert rows[compared.pk]["chosen"] == [{"role": "assistant", "content": "Ottawa."}]
    assert rows[compared.pk]["rejected"] == [{"role": "assistant", "content": "Toronto."}]
    assert rows[compared.pk]["prompt"][-1] == {"role": "user", "content": "And of Canada?"}


def test_rubric_csv_has_one_header_row_and_every_contributors_score(world):
    project, manager, rated, compared = world
    text = export(project, manager, "rubric_csv").decode()
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[:6] == ["task_id", "external_id", "unit", "turn", "candidate", "criterion"]
    assert all(row != header for row in rows[1:])  # one header row
    records = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    of_rated = [r for r in records if r["task_id"] == str(rated.pk)]
    # 2 judged turns × accuracy + the conversation × overall
    assert [(r["unit"], r["turn"], r["criterion"]) for r in of_rated] == [
        ("turn", "2", "accuracy"),
        ("turn", "4", "accuracy"),
        ("conversation", "", "overall"),
    ]
    first = of_rated[0]
    assert first["consensus"] == "1"
    assert first["contributors"] == "2"
    assert first["mean"] == "1.5"
    pairs = dict(pair.split("=") for pair in first["scores"].split(";"))
    assert sorted(pairs.values()) == ["1", "2"]
    assert all(name.startswith("c_") for name in pairs)
    of_compared = [r for r in records if r["task_id"] == str(compared.pk)]
    assert [(r["unit"], r["candidate"]) for r in of_compared if r["unit"] == "candidate"] == [
        ("candidate", "a"),
        ("candidate", "b"),
    ]


def test_rubric_jsonl_and_the_full_record_load_as_json_lines(world, tmp_path):
    project, manager, rated, _compared = world
    ds = load_jsonl(tmp_path / "rubric", export(project, manager, "rubric"))
    row = next(r for r in ds if r["task_id"] == rated.pk and r["turn"] == 4)
    assert row["consensus"] == 5
    assert sorted(s["score"] for s in row["scores"]) == [4, 5]
    lines = [json.loads(line) for line in export(project, manager, "jsonl").splitlines()]
    full = next(line for line in lines if line["task_id"] == rated.pk)
    assert full["data"]["messages"][2]["model"] == "m-1"
    assert full["result"]["turns"][0]["rewrite"] == "Canberra."
    assert len(full["answers"]) == 2
    assert full["confidence"] == 0.8


def test_rubric_marks_the_values_a_reviewers_fix_set(world, tmp_path):
    project, manager, rated, compared = world
    fix = {"turns": [turn(2, 3), turn(4, 5)], "scores": {"overall": 3}}
    TaskOutcome.objects.filter(task=rated).update(accepted_result=fix)
    Review.objects.create(
        task=rated,
        project=project,
        reviewer=manager,
        verdict=Verdict.FIX,
        reason=ReviewReason.SAMPLED,
        result=fix,
    )
    ds = load_jsonl(tmp_path / "rubric", export(project, manager, "rubric"))
    row = next(r for r in ds if r["task_id"] == rated.pk and r["turn"] == 2)
    # The reviewer set the 3; no contributor gave it.
    assert (row["consensus"], row["source"], row["mean"]) == (3, "review_fix", 1.5)
    assert {r["source"] for r in ds if r["task_id"] == rated.pk} == {"review_fix"}
    assert {r["source"] for r in ds if r["task_id"] == compared.pk} == {"answer"}
    text = export(project, manager, "rubric_csv").decode()
    records = list(csv.DictReader(io.StringIO(text)))
    assert {r["source"] for r in records if r["task_id"] == str(rated.pk)} == {"review_fix"}


def test_dpo_confidence_is_a_number_or_left_out(world, tmp_path):
    project, manager, rated, compared = world
    # Single answers only: no confidence anywhere, so no column datasets would type as null.
    TaskOutcome.objects.filter(task=rated).update(confidence=None, is_consensus=False)
    ds = load_jsonl(tmp_path / "single", export(project, manager, "dpo"))
    assert "confidence" not in ds.features
    assert ds.features == Features({k: v for k, v in CONVERSATIONAL.items() if k != "confidence"})
    # Consolidated answers: a number.
    TaskOutcome.objects.filter(task__in=[rated, compared]).update(confidence=0.75)
    ds = load_jsonl(tmp_path / "consensus", export(project, manager, "dpo"))
    assert ds.features["confidence"] == Value("float64")
    assert set(ds["confidence"]) == {0.75}
