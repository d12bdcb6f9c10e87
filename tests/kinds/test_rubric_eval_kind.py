"""The rubric-eval kind: its shapes, errors by path, consensus, and HealthBench files."""

import orjson
import pytest
from django.core.exceptions import ValidationError

from kinds.rubric_eval import formats
from kinds.rubric_eval.kind import RubricEvalKind

KIND = RubricEvalKind()
GRADE = KIND.clean_schema({"mode": "grade"})
WRITE = KIND.clean_schema({"mode": "write"})
DATA = {
    "prompt": "My child has a fever of 39.5 C. What should I do?",
    "rubric": [
        {"criterion": "Advises fluids and rest", "points": 5, "tags": ["axis:completeness"]},
        {"criterion": "Says to seek care if over 40 C", "points": 7, "tags": ["theme:emergency"]},
        {"criterion": "Recommends aspirin for a child", "points": -8, "tags": ["axis:accuracy"]},
    ],
    "response": "Give plenty of fluids and let her rest. See a doctor if it goes over 40 C.",
}


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


def test_grade_data_is_normalised_with_ids_and_a_message_list():
    data = KIND.clean_data(DATA, schema=GRADE)
    assert data["prompt"] == [{"role": "user", "content": DATA["prompt"]}]
    assert [c["id"] for c in data["rubric"]] == ["c1", "c2", "c3"]


def test_bad_rubrics_and_a_missing_response_are_named_by_path():
    bad = {**DATA, "response": "", "rubric": [{"criterion": "x", "points": 0}, {"points": 11}]}
    errors = errors_of(lambda: KIND.clean_data(bad, schema=GRADE))
    assert set(errors) == {"response", "rubric.0.points", "rubric.1.points", "rubric.1.criterion"}


def test_a_grade_needs_every_criterion_and_a_quote_from_the_response():
    data = KIND.clean_data(DATA, schema=GRADE)
    result = {
        "verdicts": {
            "c1": {"met": True, "evidence": "plenty of  fluids"},
            "c2": {"met": True, "evidence": "call an ambulance"},
        }
    }
    errors = errors_of(lambda: KIND.clean_result(result, schema=GRADE, data=data))
    assert errors == {
        "verdicts.c2.evidence": ["Evidence must be a quote of the response."],
        "verdicts.c3": ["Say whether this criterion is met."],
    }
    ok = KIND.clean_result(
        {
            "verdicts": {
                "c1": {"met": True, "evidence": "plenty of fluids"},
                "c2": True,
                "c3": False,
            }
        },
        schema=GRADE,
        data=data,
    )
    assert ok["verdicts"]["c2"] == {"met": True}


def test_consensus_is_the_majority_per_criterion():
    answers = [
        {"verdicts": {"c1": {"met": True}, "c2": {"met": False}}},
        {"verdicts": {"c1": {"met": True}, "c2": {"met": True}}},
        {"verdicts": {"c1": {"met": False}, "c2": {"met": True}}},
    ]
    consensus = KIND.consolidate(answers, schema=GRADE, quality={})
    assert consensus.result == {"verdicts": {"c1": {"met": True}, "c2": {"met": True}}}
    assert consensus.confidence == pytest.approx(2 / 3)
    assert KIND.agreement(answers, schema=GRADE, quality={}) == pytest.approx(1 / 3)


def test_a_written_rubric_is_scored_by_matching_criteria():
    gold = {"rubric": KIND.clean_data(DATA, schema=GRADE)["rubric"]}
    mine = {
        "rubric": [
            {"id": "a", "criterion": "advises rest and fluids", "points": 4, "tags": []},
            {"id": "b", "criterion": "recommends aspirin for a child", "points": 8, "tags": []},
        ]
    }
    # the second has the wrong sign, so only one criterion of five matches: F1 = 2/5
    assert KIND.score(mine, gold, schema=WRITE, quality={}) == pytest.approx(2 / 5)


def healthbench_rows() -> list[dict]:
    return [
        {
            "prompt_id": "hb-1",
            "prompt": [
                {"role": "user", "content": "I feel dizzy when I stand up."},
                {"role": "assistant", "content": "How long has this happened?"},
                {"role": "user", "content": "A week."},
            ],
            "rubrics": [
                {"criterion": "Asks about fluids", "points": 4, "tags": ["axis:context_awareness"]},
                {"criterion": "Diagnoses a stroke", "points": -9, "tags": ["axis:accuracy"]},
            ],
            "example_tags": ["theme:context_seeking"],
        },
        {
            "prompt_id": "hb-2",
            "prompt": [{"role": "user", "content": "Is ibuprofen safe with coffee?"}],
            "rubrics": [{"criterion": "Says yes", "points": 3, "tags": []}],
            "example_tags": [],
        },
    ]


def test_healthbench_jsonl_round_trips():
    rows = healthbench_rows()
    lines = [orjson.dumps(row) for row in rows]
    prompts = formats.healthbench_read(lines)
    assert prompts[0].rubric[1]["id"] == formats.criterion_id("Diagnoses a stroke", -9)
    written = b"".join(formats.healthbench_jsonl(prompts)).decode().splitlines()
    assert [orjson.loads(line) for line in written] == rows


def test_a_bad_healthbench_line_is_named_and_nothing_is_taken():
    rows = healthbench_rows()
    rows[1]["rubrics"][0]["points"] = 12
    lines = [orjson.dumps(r) for r in rows] + [b"not json"]
    errors = errors_of(lambda: formats.healthbench_read(lines))
    assert errors == {
        "line 2.rubrics.0.points": ["Points are a whole number from -10 to 10, not 0."],
        "line 3": ["Not a JSON object."],
    }
