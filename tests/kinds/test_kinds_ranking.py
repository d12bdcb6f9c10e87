"""Every validation rule of the ranking kind, each with bad input and its message."""

import pytest
from django.core.exceptions import ValidationError

import kinds

KIND = kinds.get("ranking")
PAIRWISE = {"mode": "pairwise", "strength_scale": 3, "criteria": ["honesty"], "rationale": "none"}
RANK = {"mode": "rank", "strength_scale": 3, "criteria": [], "rationale": "required"}
PAIR_DATA = {"prompt": "Hi?", "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]}
THREE = {**PAIR_DATA, "responses": [*PAIR_DATA["responses"], {"id": "c", "text": "C"}]}


def errors_of(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def test_schema_is_normalised_with_defaults():
    assert KIND.clean_schema({}) == KIND.default_schema()
    cleaned = KIND.clean_schema({"mode": "rank", "criteria": [" honesty ", {"name": "safety"}]})
    assert cleaned["criteria"] == ["honesty", "safety"]


@pytest.mark.parametrize(
    ("schema", "path", "message"),
    [
        ("rank", "__all__", "must be a JSON object"),
        ({"mode": "best"}, "mode", "'pairwise' (A/B/tie) or 'rank'"),
        ({"strength_scale": 0}, "strength_scale", "1 to 7 steps"),
        ({"strength_scale": 8}, "strength_scale", "1 to 7 steps"),
        ({"strength_scale": True}, "strength_scale", "1 to 7 steps"),
        ({"criteria": "honesty"}, "criteria", "a list of names"),
        ({"criteria": [""]}, "criteria.0", "needs a name"),
        ({"criteria": ["x" * 61]}, "criteria.0", "at most 60 characters"),
        ({"criteria": ["Honesty", "honesty"]}, "criteria.1", "given twice"),
        ({"criteria": [f"c{i}" for i in range(11)]}, "criteria", "At most 10 criteria"),
        ({"rationale": "always"}, "rationale", "'none', 'optional' or 'required'"),
        ({"ties": True}, "ties", "Unknown setting"),
    ],
)
def test_bad_schema_is_refused_with_a_path(schema, path, message):
    errors = errors_of(lambda: KIND.clean_schema(schema))
    assert path in errors, errors
    assert any(message in text for text in errors[path]), errors


def test_good_data_passes():
    assert KIND.clean_data(PAIR_DATA, schema=PAIRWISE) == PAIR_DATA
    chat = {"messages": [{"role": "user", "content": "Hi"}], "responses": THREE["responses"]}
    assert KIND.clean_data(chat, schema=RANK) == chat


def responses(*items):
    return {"prompt": "Hi?", "responses": list(items)}


@pytest.mark.parametrize(
    ("data", "schema", "path", "message"),
    [
        ([], PAIRWISE, "data", "must be a JSON object"),
        ({"responses": PAIR_DATA["responses"]}, PAIRWISE, "data.prompt", "a prompt (text) or"),
        ({**PAIR_DATA, "prompt": " "}, PAIRWISE, "data.prompt", "non-empty text"),
        ({**PAIR_DATA, "messages": []}, PAIRWISE, "data.messages", "non-empty list"),
        ({**PAIR_DATA, "messages": ["hi"]}, PAIRWISE, "data.messages.0", "is an object"),
        (
            {**PAIR_DATA, "messages": [{"role": "bot", "content": "x"}]},
            PAIRWISE,
            "data.messages.0.role",
            "A role is one of system, user",
        ),
        (
            {**PAIR_DATA, "messages": [{"role": "user", "content": 3}]},
            PAIRWISE,
            "data.messages.0.content",
            "content is text",
        ),
        ({"prompt": "Hi"}, PAIRWISE, "data.responses", "2 to 6 responses"),
        (responses({"id": "a", "text": "A"}), RANK, "data.responses", "2 to 6 responses"),
        (
            responses(*({"id": str(i), "text": "t"} for i in range(7))),
            RANK,
            "data.responses",
            "2 to 6 responses",
        ),
        (THREE, PAIRWISE, "data.responses", "exactly 2 responses"),
        (responses("a", {"id": "b", "text": "B"}), RANK, "data.responses.0", "is an object"),
        (
            responses({"id": "tie", "text": "A"}, {"id": "b", "text": "B"}),
            RANK,
            "data.responses.0.id",
            "not 'tie'",
        ),
        (
            responses({"id": "a" * 41, "text": "A"}, {"id": "b", "text": "B"}),
            RANK,
            "data.responses.0.id",
            "short text",
        ),
        (
            responses({"id": "a", "text": "A"}, {"id": "a", "text": "B"}),
            RANK,
            "data.responses.1.id",
            "used twice",
        ),
        (
            responses({"id": "a", "text": " "}, {"id": "b", "text": "B"}),
            RANK,
            "data.responses.0.text",
            "needs its text",
        ),
    ],
)
def test_bad_data_is_refused_with_a_path(data, schema, path, message):
    errors = errors_of(lambda: KIND.clean_data(data, schema=schema))
    assert path in errors, errors
    assert any(message in text for text in errors[path]), errors


def test_good_results_are_cleaned():
    pair = {"preference": "b", "strength": 2, "criteria": {"honesty": "tie"}}
    assert KIND.clean_result(pair, schema=PAIRWISE, data=PAIR_DATA) == {**pair, "rationale": ""}
    order = {"order": ["c", "a", "b"], "rationale": "c is right"}
    assert KIND.clean_result(order, schema=RANK, data=THREE)["order"] == ["c", "a", "b"]


@pytest.mark.parametrize(
    ("result", "schema", "data", "path", "message"),
    [
        ("a", PAIRWISE, PAIR_DATA, "result", "must be a JSON object"),
        ({"preference": "c"}, PAIRWISE, PAIR_DATA, "result.preference", "Choose one of a, b, tie"),
        (
            {"preference": "a", "strength": 4, "criteria": {"honesty": "a"}},
            PAIRWISE,
            PAIR_DATA,
            "result.strength",
            "from 1 to 3",
        ),
        (
            {"preference": "a", "criteria": []},
            PAIRWISE,
            PAIR_DATA,
            "result.criteria",
            "{criterion: response id}",
        ),
        (
            {"preference": "a", "criteria": {}},
            PAIRWISE,
            PAIR_DATA,
            "result.criteria.honesty",
            "Answer 'honesty'",
        ),
        (
            {"preference": "a", "criteria": {"honesty": "a", "style": "a"}},
            PAIRWISE,
            PAIR_DATA,
            "result.criteria.style",
            "Not a criterion",
        ),
        ({"order": ["a", "b"], "rationale": "x"}, RANK, THREE, "result.order", "exactly once"),
        ({"order": ["a", "b", "b"], "rationale": "x"}, RANK, THREE, "result.order", "exactly once"),
        ({"order": "abc", "rationale": "x"}, RANK, THREE, "result.order", "exactly once"),
        ({"order": ["a", "b", 3], "rationale": "x"}, RANK, THREE, "result.order", "exactly once"),
        ({"order": ["a", "b", "c"], "rationale": 5}, RANK, THREE, "result.rationale", "is text"),
        ({"order": ["a", "b", "c"]}, RANK, THREE, "result.rationale", "asks for a rationale"),
        (
            {"order": ["a", "b", "c"], "rationale": "x" * 10_001},
            RANK,
            THREE,
            "result.rationale",
            "at most 10000",
        ),
    ],
)
def test_bad_result_is_refused_with_a_path(result, schema, data, path, message):
    errors = errors_of(lambda: KIND.clean_result(result, schema=schema, data=data))
    assert path in errors, errors
    assert any(message in text for text in errors[path]), errors
