"""Known answers for the trajectory kind's quality math: gold score part by part, agreement,
first-error share, consensus with its confidence, and Krippendorff's alpha checked against the
``krippendorff`` package."""

import krippendorff
import numpy as np
import pytest

import kinds
from kinds.trajectory import metrics
from quality.agreement import krippendorff_alpha
from tests.trajectory.samples import sample

KIND = kinds.get("trajectory")
PER_STEP = KIND.clean_schema(KIND.default_schema())
FIRST_ERROR = KIND.clean_schema({**KIND.default_schema(), "judging": "first_error"})
DATA = KIND.clean_data(sample("steps"), schema=PER_STEP)  # agent steps a1 a2 a3 a4
WORDS = {"c": "correct", "p": "partly correct", "w": "wrong"}


def rated(pattern: str, verdict: str = "failure", **extra) -> dict:
    """A cleaned per-step answer: ``"ccww"`` rates a1..a4."""
    steps = {f"a{i + 1}": {"rating": WORDS[c]} for i, c in enumerate(pattern)}
    first = next((f"a{i + 1}" for i, c in enumerate(pattern) if c == "w"), None)
    result = {"steps": steps, "first_error": first, "verdict": verdict, **extra}
    result.setdefault("scores", {"efficiency": 3, "safety": 3})
    return KIND.clean_result(result, schema=PER_STEP, data=DATA)


def marked(first: str | None, verdict: str = "failure", **extra) -> dict:
    result = {"first_error": first, "verdict": verdict, "scores": {"efficiency": 3, "safety": 3}}
    return KIND.clean_result({**result, **extra}, schema=FIRST_ERROR, data=DATA)


def test_gold_parts_first_error_exact_and_within_one_steps_and_verdict():
    parts = metrics.gold_parts(rated("ccww"), rated("cwww"), schema=PER_STEP)
    assert parts == {
        "first_error_exact": 0.0,
        "first_error_within_one": 1.0,  # a3 against a2: one step apart
        "steps": 0.75,  # a2 correct against wrong: 0; the other three agree
        "verdict": 1.0,
    }
    assert KIND.score(rated("ccww"), rated("cwww"), schema=PER_STEP, quality={}) == 0.6875


def test_partly_correct_is_half_way_and_two_steps_apart_is_not_within_one():
    parts = metrics.gold_parts(rated("cccp", "partial"), rated("wccw"), schema=PER_STEP)
    # a1: correct vs wrong 0 · a2, a3: 1 · a4: partly correct vs wrong 0.5
    assert parts["steps"] == pytest.approx((0 + 1 + 1 + 0.5) / 4)
    # No wrong step counts as one past the last (4) against a1 (0).
    assert parts["first_error_within_one"] == 0.0
    assert parts["first_error_exact"] == 0.0
    assert parts["verdict"] == 0.0


def test_no_wrong_step_on_both_sides_is_an_exact_match():
    parts = metrics.gold_parts(rated("cccc", "success"), rated("ccpc", "success"), schema=PER_STEP)
    assert parts["first_error_exact"] == 1.0
    assert parts["first_error_within_one"] == 1.0
    assert parts["steps"] == pytest.approx(3.5 / 4)


def test_first_error_mode_scores_from_the_marked_step():
    parts = metrics.gold_parts(marked("a3"), marked("a1"), schema=FIRST_ERROR)
    # a1 a2 differ (correct vs wrong), a3 a4 agree (wrong); two steps apart.
    assert parts == {
        "first_error_exact": 0.0,
        "first_error_within_one": 0.0,
        "steps": 0.5,
        "verdict": 1.0,
    }


def test_agreement_is_the_mean_pairwise_score_and_one_answer_agrees_with_itself():
    a, b, c = rated("ccww"), rated("ccww"), rated("cwww", "partial")
    ab = 1.0
    ac = KIND.score(a, c, schema=PER_STEP, quality={})
    assert ac == pytest.approx((0 + 1 + 0.75 + 0) / 4)
    assert KIND.agreement([a, b, c], schema=PER_STEP, quality={}) == pytest.approx(
        (ab + ac + ac) / 3
    )
    assert KIND.agreement([a], schema=PER_STEP, quality={}) == 1.0


def test_first_error_share():
    assert metrics.first_error_share([rated("ccww"), rated("ccww"), rated("cwww")]) == (
        pytest.approx(1 / 3)
    )


def test_per_step_consensus_majority_ratings_first_error_and_verdict_with_confidence():
    a = rated("ccww", "failure", failure_modes=["looping", "gave up"])
    b = rated("ccww", "failure", failure_modes=["looping"])
    c = rated("cwww", "partial", failure_modes=["gave up"])
    consensus = KIND.consolidate([a, b, c], schema=PER_STEP, quality={}, data=DATA)
    result = consensus.result
    assert {k: v["rating"] for k, v in result["steps"].items()} == {
        "a1": "correct", "a2": "correct", "a3": "wrong", "a4": "wrong",
    }  # fmt: skip
    assert result["first_error"] == "a3"
    assert result["first_error_at"] == 2
    assert result["verdict"] == "failure"
    assert result["failure_modes"] == ["looping", "gave up"]  # two of three each, schema order
    # first error 2/3 · steps (1 + 2/3 + 1 + 1)/4 · verdict 2/3
    assert consensus.confidence == pytest.approx((2 / 3 + 11 / 12 + 2 / 3) / 3)
    # The consensus is itself a valid answer.
    KIND.clean_result(result, schema=PER_STEP, data=DATA)


def test_first_error_consensus_is_the_earliest_step_a_majority_calls_wrong():
    answers = [marked("a3"), marked("a4"), marked("a2")]
    result = KIND.consolidate(answers, schema=FIRST_ERROR, quality={}, data=DATA).result
    assert result["first_error"] == "a3"  # by a3, two of three call it wrong
    weighted = KIND.consolidate(
        answers, schema=FIRST_ERROR, quality={}, data=DATA, weights=[1, 1, 3]
    ).result
    assert weighted["first_error"] == "a2"
    half = KIND.consolidate([marked("a2"), marked("a4")], schema=FIRST_ERROR, quality={}, data=DATA)
    assert half.result["first_error"] == "a4"  # by a2 only half call it wrong: no majority
    none = KIND.consolidate(
        [marked(None, "success"), marked(None, "success"), marked("a4")],
        schema=FIRST_ERROR, quality={}, data=DATA,
    ).result  # fmt: skip
    assert none["first_error"] is None
    assert none["verdict"] == "success"
    KIND.clean_result(result, schema=FIRST_ERROR, data=DATA)


def test_a_tied_verdict_goes_to_the_worse_one_and_scores_to_the_weighted_median():
    a = rated("cccc", "success", scores={"efficiency": 5, "safety": 3}, failure_modes=["looping"])
    b = rated("cccc", "failure", scores={"efficiency": 2, "safety": 1})
    result = KIND.consolidate([a, b], schema=PER_STEP, quality={}, data=DATA).result
    assert result["verdict"] == "failure"
    assert result["failure_modes"] == []  # one of two is no majority
    assert result["scores"] == {"efficiency": 3, "safety": 2}  # medians 3.5 and 2, rounded down


def test_corrections_come_whole_from_the_answer_closest_to_the_others():
    fix = {"step": "a3", "tool": {"name": "read_file", "arguments": {"path": "cart.py"}}}
    other = {"step": "a3", "tool": {"name": "read_file", "arguments": {"path": "x.py"}}}
    a = rated("ccww", corrections=[fix])
    b = rated("ccww", corrections=[other])
    c = rated("ccww", corrections=[fix])
    result = KIND.consolidate([a, b, c], schema=PER_STEP, quality={}, data=DATA).result
    assert result["corrections"] == [fix]


def reference_alpha(units: list[list], level: str) -> float:
    """The ``krippendorff`` package on the same units (coders × units, NaN for no answer)."""
    width = max(len(unit) for unit in units)
    matrix = np.full((width, len(units)), np.nan)
    for j, unit in enumerate(units):
        for i, value in enumerate(unit):
            if value is not None:
                matrix[i, j] = value
    return krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)


def test_alpha_on_step_ratings_ordinal_and_verdicts_nominal_matches_the_krippendorff_package():
    tasks = [
        (DATA, [rated("ccww", "failure"), rated("cwww", "failure"), rated("ccpw", "partial")]),
        (DATA, [rated("cccc", "success"), rated("cccp", "success")]),
        (DATA, [rated("pwww", "failure"), rated("cwww", "partial"), rated("wwww", "failure")]),
        (DATA, [rated("ccpc", "partial"), rated("cccc", "success")]),
    ]
    questions = {q.name: q for q in KIND.alpha_questions(tasks, schema=PER_STEP)}
    steps, verdict = questions["step ratings"], questions["verdict"]
    assert (steps.level, verdict.level) == ("ordinal", "nominal")
    assert len(steps.units) == 4 * 4
    ours = krippendorff_alpha(steps.units, level="ordinal")
    assert ours == pytest.approx(reference_alpha(steps.units, "ordinal"))
    assert krippendorff_alpha(verdict.units, level="nominal") == pytest.approx(
        reference_alpha(verdict.units, "nominal")
    )
    assert 0 < ours < 1
    first = questions["first error"]
    assert first.units[1] == ["none", "none"]
    codes = ["a1", "a2", "a3", "a4", "none"]
    numbered = [[codes.index(v) for v in unit] for unit in first.units]
    assert krippendorff_alpha(first.units, level="nominal") == pytest.approx(
        reference_alpha(numbered, "nominal")
    )
