"""Known answers for the conversation metrics; Krippendorff's alpha against the package."""

import krippendorff
import numpy as np
import pytest

import kinds
from kinds.conversation import metrics as m
from quality.agreement import krippendorff_alpha

RUBRIC = m.Rubric(scales={"accuracy": 5, "tone": 3}, error_types=("factual error", "unsafe"))


def turn(index, scores=None, spans=(), rewrite=None):
    entry = {"index": index, "scores": scores or {}, "spans": list(spans)}
    if rewrite:
        entry["rewrite"] = rewrite
    return entry


def span(start, end, kind="factual error", note=None):
    return {"start": start, "end": end, "type": kind, **({"note": note} if note else {})}


@pytest.mark.parametrize(
    ("a", "b", "k", "expected"),
    [(4, 5, 5, 0.75), (1, 5, 5, 0.0), (2, 2, 3, 1.0), (1, 3, 3, 0.0), (3, 7, 7, 1 / 3)],
)
def test_ordinal_agreement_is_one_minus_the_distance_over_the_scale(a, b, k, expected):
    assert m.ordinal_agreement(a, b, k) == pytest.approx(expected)


def test_span_f1_counts_characters_of_the_same_type_and_merges_overlaps():
    a = {"turns": [turn(1, spans=[span(0, 10)])]}
    b = {"turns": [turn(1, spans=[span(5, 15)])]}
    assert m.span_f1(a, b) == pytest.approx(2 * 5 / 20)
    other_type = {"turns": [turn(1, spans=[span(0, 10, "unsafe")])]}
    assert m.span_f1(a, other_type) == 0.0
    other_turn = {"turns": [turn(3, spans=[span(0, 10)])]}
    assert m.span_f1(a, other_turn) == 0.0
    doubled = {"turns": [turn(1, spans=[span(0, 6), span(4, 10)])]}  # one mark of 0..10
    assert m.span_f1(a, doubled) == 1.0
    nothing = {"turns": [turn(1)]}
    assert m.span_f1(nothing, {"turns": []}) == 1.0  # both say nothing is wrong
    assert m.span_f1(a, nothing) == 0.0


def test_similarity_averages_scores_spans_and_order():
    gold = {
        "turns": [turn(1, {"accuracy": 5, "tone": 3}, [span(0, 10)])],
        "scores": {},
        "order": ["a", "b", "c"],
    }
    answer = {
        "turns": [turn(1, {"accuracy": 4}, [span(5, 15)])],  # tone not given: counts 0
        "scores": {},
        "order": ["a", "c", "b"],
    }
    scores = (0.75 + 0.0) / 2
    spans = 0.5
    order = (1 / 3 + 1) / 2  # τ_b of one swapped pair out of three
    assert m.similarity(answer, gold, RUBRIC) == pytest.approx((scores + spans + order) / 3)
    assert m.similarity(gold, answer, RUBRIC) == m.similarity(answer, gold, RUBRIC)
    assert m.similarity(gold, gold, RUBRIC) == 1.0


def test_written_text_is_compared_only_when_nothing_else_is():
    rubric = m.Rubric(scales={})
    a = {"turns": [], "written": [{"role": "assistant", "content": "use a list comprehension"}]}
    b = {"turns": [], "written": [{"role": "assistant", "content": "use a comprehension"}]}
    # word accuracy both ways: 1 − 1/3 (one insertion against b) and 1 − 1/4, averaged
    expected = ((1 - 1 / 3) + (1 - 1 / 4)) / 2
    assert m.similarity(a, b, rubric) == pytest.approx(expected)
    with_scores = {**a, "scores": {"accuracy": 5}}
    assert m.similarity(with_scores, {**b, "scores": {"accuracy": 5}}, RUBRIC) == 1.0


def test_consensus_is_the_lower_median_and_the_spans_a_majority_marked():
    answers = [
        {"turns": [turn(1, {"accuracy": 1, "tone": 2}, [span(0, 10, note="wrong year")])]},
        {"turns": [turn(1, {"accuracy": 2, "tone": 2}, [span(5, 15), span(30, 40, "unsafe")])]},
        {"turns": [turn(1, {"accuracy": 5, "tone": 1}, [span(8, 20)])]},
    ]
    result = m.consolidate(answers, RUBRIC).result
    [merged] = result["turns"]
    assert merged["scores"] == {"accuracy": 2, "tone": 2}
    # characters 5–15 are marked by two of three; 30–40 by one only
    assert merged["spans"] == [
        {"start": 5, "end": 15, "type": "factual error", "note": "wrong year"}
    ]
    two = m.consolidate(answers[:2], RUBRIC).result["turns"][0]
    assert two["scores"] == {"accuracy": 1, "tone": 2}  # 1, 2 → the lower median, a real point
    # 5–10 marked by both of two is a strict majority; 0–5 and 10–15 by one of two is not
    assert [(s["start"], s["end"]) for s in two["spans"]] == [(5, 10)]


def test_weights_move_the_median_and_the_majority():
    answers = [
        {"turns": [turn(1, {"accuracy": 1}, [span(0, 4)])]},
        {"turns": [turn(1, {"accuracy": 5})]},
        {"turns": [turn(1, {"accuracy": 5})]},
    ]
    plain = m.consolidate(answers, RUBRIC).result["turns"][0]
    assert plain["scores"] == {"accuracy": 5}
    assert plain["spans"] == []
    trusted = m.consolidate(answers, RUBRIC, weights=[3, 1, 1]).result["turns"][0]
    assert trusted["scores"] == {"accuracy": 1}
    assert trusted["spans"] == [{"start": 0, "end": 4, "type": "factual error"}]


def test_rewrites_and_written_turns_come_from_the_medoid_never_averaged():
    answers = [
        {"turns": [turn(1, {"accuracy": 2}, rewrite="Canberra.")], "rationale": "wrong city"},
        {"turns": [turn(1, {"accuracy": 2}, rewrite="It is Canberra.")], "rationale": "Sydney?"},
        {"turns": [turn(1, {"accuracy": 5})]},
    ]
    result = m.consolidate(answers, RUBRIC).result
    assert result["turns"][0]["rewrite"] == "Canberra."  # the first of the two most backed
    assert result["rationale"] == "wrong city"
    assert m.consolidate(answers[2:], RUBRIC).result == answers[2]  # one answer is the answer


def test_the_order_of_candidates_is_bradley_terry_and_confidence_the_backing():
    answers = [
        {"turns": [], "order": ["a", "b", "c"]},
        {"turns": [], "order": ["a", "c", "b"]},
        {"turns": [], "order": ["b", "a", "c"]},
    ]
    consensus = m.consolidate(answers, RUBRIC)
    assert consensus.result["order"] == ["a", "b", "c"]
    expected = sum(m.similarity(a, consensus.result, RUBRIC) for a in answers) / 3
    assert consensus.confidence == pytest.approx(expected)


def test_agreement_is_the_mean_pairwise_similarity():
    a = {"turns": [turn(1, {"accuracy": 5})]}
    b = {"turns": [turn(1, {"accuracy": 4})]}
    c = {"turns": [turn(1, {"accuracy": 1})]}
    rubric = m.Rubric(scales={"accuracy": 5})
    assert m.agreement([a, b, c], rubric) == pytest.approx((0.75 + 0.0 + 0.25) / 3)
    assert m.agreement([a], rubric) == 1.0


def test_alpha_per_criterion_is_ordinal_and_matches_the_krippendorff_package():
    kind = kinds.get("conversation")
    schema = {"criteria": [{"name": "accuracy", "scale": 5}, {"name": "tone", "scale": 3}]}
    # three annotators, two tasks of two judged turns each; one score missing
    grid = {
        "accuracy": [[5, 4, 2, 1], [5, 5, 1, 2], [4, 4, 2, None]],
        "tone": [[3, 1, 2, 2], [3, 1, 2, 3], [2, 1, None, 2]],
    }
    tasks = []
    for t in range(2):
        results = []
        for annotator in range(3):
            turns = []
            for i, index in enumerate((1, 3)):
                scores = {
                    name: grid[name][annotator][2 * t + i]
                    for name in grid
                    if grid[name][annotator][2 * t + i] is not None
                }
                turns.append(turn(index, scores))
            results.append({"turns": turns})
        tasks.append(({"messages": []}, results))
    questions = kind.alpha_questions(tasks, schema=schema)
    assert [(q.name, q.level, len(q.units)) for q in questions] == [
        ("accuracy", "ordinal", 4),
        ("tone", "ordinal", 4),
    ]
    for question in questions:
        reference = krippendorff.alpha(
            reliability_data=np.array(grid[question.name], dtype=float),
            level_of_measurement="ordinal",
        )
        ours = krippendorff_alpha(question.units, level=question.level)
        assert ours == pytest.approx(reference)
