"""The trajectory kind's checks: the schema, a run's data and an answer, each refused with the
path of what is wrong; the settings page's builder; the review summary."""

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

import kinds
from tests.trajectory.samples import sample

KIND = kinds.get("trajectory")
SCHEMA = KIND.clean_schema(KIND.default_schema())
FIRST_ERROR = KIND.clean_schema({**KIND.default_schema(), "judging": "first_error"})
DATA = KIND.clean_data(sample("steps"), schema=SCHEMA)


def refused(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.message_dict


def answer(**changes) -> dict:
    result = {
        "steps": {
            "a1": {"rating": "correct"},
            "a2": {"rating": "correct"},
            "a3": {"rating": "wrong", "error": "wrong arguments"},
            "a4": {"rating": "partly correct"},
        },
        "first_error": "a3",
        "corrections": [
            {"step": "a3", "tool": {"name": "read_file", "arguments": {"path": "cart.py"}}}
        ],
        "verdict": "failure",
        "scores": {"efficiency": 2, "safety": 3},
        "failure_modes": ["wrong tool use"],
        "critique": "Read the wrong file.",
    }
    result.update(changes)
    return result


def test_the_default_schema_is_clean_and_offers_the_default_taxonomy():
    assert SCHEMA["judging"] == "per_step"
    assert SCHEMA["ratings"] == ["correct", "partly correct", "wrong"]
    assert [t["name"] for t in SCHEMA["error_types"]] == [
        "wrong tool", "wrong arguments", "hallucinated result",
        "ignored instruction or observation", "unsafe or destructive action", "looping",
        "gave up too early",
    ]  # fmt: skip
    assert SCHEMA["error_types"][4]["severity"] == "critical"


def test_a_wrong_schema_is_refused_field_by_field():
    errors = refused(
        lambda: KIND.clean_schema(
            {"judging": "vibes", "ratings": ["ok"], "correct_ratings": 5, "critique": "maybe",
             "error_types": [{"name": "x", "severity": "huge"}], "colour": "red"}
        )
    )  # fmt: skip
    assert set(errors) == {
        "judging", "ratings", "correct_ratings", "critique", "error_types.0.severity", "colour",
    }  # fmt: skip


def test_a_full_answer_is_cleaned_with_the_first_errors_position():
    cleaned = KIND.clean_result(answer(), schema=SCHEMA, data=DATA)
    assert cleaned["first_error_at"] == 2
    assert cleaned["steps"]["a3"] == {
        "rating": "wrong",
        "error": "wrong arguments",
        "severity": "major",
    }
    assert cleaned["corrections"][0]["tool"]["arguments"] == {"path": "cart.py"}


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"steps": {"a1": {"rating": "correct"}}}, "result.steps"),
        ({"first_error": "a4"}, "result.first_error"),
        ({"first_error": "o1"}, "result.first_error"),
        ({"verdict": "meh"}, "result.verdict"),
        ({"scores": {"efficiency": 9, "safety": 3}}, "result.scores.efficiency"),
        ({"failure_modes": ["bored"]}, "result.failure_modes"),
        ({"corrections": [{"step": "a1", "content": "x"}]}, "result.corrections.0.step"),
        ({"corrections": [{"step": "a3", "tool": {"name": "rm", "arguments": {}}}]},
         "result.corrections.0.tool.name"),
        ({"corrections": [{"step": "a3", "tool": {"name": "read_file", "arguments": {"path": 7}}}]},
         "result.corrections.0.tool.arguments.path"),
        ({"corrections": [{"step": "a3", "tool": {"name": "read_file", "arguments": {}}}]},
         "result.corrections.0.tool.arguments"),
        ({"corrections": [{"step": "a3",
                           "tool": {"name": "read_file", "arguments": {"path": "README.md"}}}]},
         "result.corrections.0.tool"),
        ({"corrections": [{"step": "a3", "content": "x", "tool": {"name": "read_file"}}]},
         "result.corrections.0"),
        ({"colour": "red"}, "result.colour"),
    ],
)  # fmt: skip
def test_a_wrong_answer_is_refused_at_its_path(changes, path):
    errors = refused(lambda: KIND.clean_result(answer(**changes), schema=SCHEMA, data=DATA))
    assert path in errors, errors


def test_an_error_type_on_a_correct_step_and_a_required_critique():
    steps = answer()["steps"] | {"a1": {"rating": "correct", "error": "looping"}}
    errors = refused(lambda: KIND.clean_result(answer(steps=steps), schema=SCHEMA, data=DATA))
    assert "result.steps.a1.error" in errors
    strict = {**SCHEMA, "critique": "required"}
    errors = refused(lambda: KIND.clean_result(answer(critique=" "), schema=strict, data=DATA))
    assert "result.critique" in errors


def test_corrections_off_refuses_them():
    schema = {**SCHEMA, "corrections": False}
    errors = refused(lambda: KIND.clean_result(answer(), schema=schema, data=DATA))
    assert "result.corrections" in errors


def test_first_error_mode_fills_every_step_from_the_mark():
    result = {"first_error": "a2", "steps": {"a2": {"rating": "wrong", "error": "wrong tool"}},
              "verdict": "failure", "scores": {"efficiency": 1, "safety": 3}}  # fmt: skip
    cleaned = KIND.clean_result(result, schema=FIRST_ERROR, data=DATA)
    assert cleaned["steps"] == {
        "a1": {"rating": "correct"},
        "a2": {"rating": "wrong", "error": "wrong tool", "severity": "major"},
        "a3": {"rating": "wrong"},
        "a4": {"rating": "wrong"},
    }
    assert KIND.clean_result(cleaned, schema=FIRST_ERROR, data=DATA) == cleaned
    contradicting = {**result, "steps": {"a1": {"rating": "wrong"}}}
    errors = refused(lambda: KIND.clean_result(contradicting, schema=FIRST_ERROR, data=DATA))
    assert "result.steps.a1.rating" in errors
    errors = refused(
        lambda: KIND.clean_result({"verdict": "success"}, schema=FIRST_ERROR, data=DATA)
    )
    assert "result.first_error" in errors


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["steps"][3].update(call_id="nope"), "data.steps.3.call_id"),
        (lambda d: d["steps"][2].pop("tool"), "data.steps.2.tool.name"),
        (lambda d: d["steps"][1].update(id="a2"), "data.steps.2.id"),
        (lambda d: d["steps"][0].update(click={"x": 1, "y": 2}), "data.steps.0.click"),
        (lambda d: d["steps"][0].update(metrics={"latency_ms": -1}),
         "data.steps.0.metrics.latency_ms"),
        (lambda d: d["tools"][0].update(parameters={"type": 12}), "data.tools.0.parameters"),
        (lambda d: d.update(steps=d["steps"][:1]), "data.steps"),
    ],
)  # fmt: skip
def test_wrong_run_data_is_refused_at_its_path(change, path):
    data = sample("steps")
    change(data)
    errors = refused(lambda: KIND.clean_data(data, schema=SCHEMA))
    assert path in errors, errors


def test_the_builder_reads_the_settings_form_back_into_a_schema():
    post = QueryDict(mutable=True)
    post.update({"judging": "first_error", "ratings": "good\nbad", "correct_ratings": "1",
                 "corrections": "on", "failure_modes": "looping\ngave up",
                 "critique": "required"})  # fmt: skip
    post.setlist("error_name", ["wrong tool", "unsafe"])
    post.setlist("error_severity", ["major", "critical"])
    post.setlist("criterion_name", ["efficiency"])
    post.setlist("criterion_scale", ["3"])
    post.setlist("criterion_labels", ["slow\nok\nfast"])
    schema = KIND.clean_schema(KIND.schema_from_form(post))
    assert schema == {
        "judging": "first_error",
        "ratings": ["good", "bad"],
        "correct_ratings": 1,
        "error_types": [
            {"name": "wrong tool", "severity": "major"},
            {"name": "unsafe", "severity": "critical"},
        ],
        "corrections": True,
        "criteria": [{"name": "efficiency", "scale": 3, "labels": ["slow", "ok", "fast"]}],
        "failure_modes": ["looping", "gave up"],
        "critique": "required",
    }
    form = KIND.schema_form(schema=schema, errors={"ratings": ["Give 2 to 9 ratings."]})
    assert form.context["ratings"] == "good\nbad"
    assert form.context["field_errors"]["ratings"] == ["Give 2 to 9 ratings."]
    added = KIND.schema_form_edit(schema=schema, action="add-error-type")
    assert len(added["error_types"]) == 3


def test_the_review_summary_and_views_show_the_correction_as_a_diff():
    cleaned = KIND.clean_result(answer(), schema=SCHEMA, data=DATA)
    summary = KIND.review_summary(cleaned, schema=SCHEMA)
    assert summary == "verdict failure · first error at step a3 · 1 correction · wrong tool use"
    views = KIND.review_views(
        results=[cleaned], proposal=None, data=DATA, media_meta={}, schema=SCHEMA
    )
    (view,) = views.answers
    assert [w["step"] for w in view["wrong"]] == ["a3", "a4"]
    parts = view["corrections"][0]["diff"].parts
    assert parts == [
        ("same", 'read_file({"path":'),
        ("del", '"README.md"})'),
        ("ins", '"cart.py"})'),
    ]
    assert views.shared["figures"]["tool_calls"] == 2


def test_different_corrections_are_a_disagreement_for_review_and_equal_ones_are_not():
    fixed = KIND.clean_result(answer(), schema=SCHEMA, data=DATA)
    other_fix = [{"step": "a3", "tool": {"name": "read_file", "arguments": {"path": "src.py"}}}]
    other = KIND.clean_result(answer(corrections=other_fix), schema=SCHEMA, data=DATA)
    plain = KIND.clean_result(answer(corrections=[]), schema=SCHEMA, data=DATA)
    assert KIND.disagreement([fixed, fixed], schema=SCHEMA) == ""
    assert KIND.disagreement([plain, plain], schema=SCHEMA) == ""
    assert "correct the run differently" in KIND.disagreement([fixed, other], schema=SCHEMA)
    assert "correct the run differently" in KIND.disagreement([fixed, plain], schema=SCHEMA)
