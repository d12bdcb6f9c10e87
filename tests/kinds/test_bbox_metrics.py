"""Box scoring, agreement and consensus: hand-computed cases and properties."""

import itertools
import random

import pytest

from kinds.bbox import metrics as boxes
from kinds.bbox.kind import BoundingBoxKind

KIND = BoundingBoxKind()
SCHEMA = {"labels": [{"name": "car"}, {"name": "person"}], "min_size": 0, "allow_empty": True}
QUALITY = {"iou_threshold": 0.5}


def box(x, y, w, h, label="car"):
    return {"label": label, "x": x, "y": y, "w": w, "h": h}


def test_iou_of_half_shifted_squares_is_one_third():
    assert boxes.iou(box(0, 0, 10, 10), box(5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_iou_of_touching_or_empty_boxes_is_zero():
    assert boxes.iou(box(0, 0, 10, 10), box(10, 0, 10, 10)) == 0
    assert boxes.iou(box(0, 0, 0, 0), box(0, 0, 0, 0)) == 0


def test_extra_box_costs_precision_only():
    gold = [box(10, 10, 100, 50), box(200, 80, 40, 40, "person")]
    answer = [*gold, box(300, 300, 20, 20)]
    result = KIND.compare({"boxes": answer}, {"boxes": gold}, schema=SCHEMA, quality=QUALITY)
    assert (result.matched, result.precision, result.recall) == (2, pytest.approx(2 / 3), 1.0)
    assert result.f1 == pytest.approx(0.8)
    assert result.mean_iou == pytest.approx(1.0)
    assert KIND.score({"boxes": answer}, {"boxes": gold}, schema=SCHEMA, quality=QUALITY) == (
        pytest.approx(0.8)
    )


def test_mean_iou_is_over_matches():
    gold = [box(0, 0, 10, 10), box(100, 100, 10, 10)]
    answer = [box(0, 0, 10, 10), box(101, 100, 10, 10)]  # IoU 90/110
    result = boxes.compare(answer, gold)
    assert result.f1 == 1.0
    assert result.mean_iou == pytest.approx((1 + 90 / 110) / 2)


def test_hungarian_matching_finds_two_pairs_where_greedy_finds_one():
    # Greedy would pair the first answer box with the first gold box (IoU 0.82) and leave the
    # second answer box with IoU 0.25; the optimal pairing has two matches (0.54 and 0.67).
    gold = [box(10, 0, 10, 10), box(14, 0, 10, 10)]
    answer = [box(11, 0, 10, 10), box(8, 0, 10, 10)]
    result = boxes.compare(answer, gold)
    assert result.matched == 2
    assert result.f1 == 1.0


def test_matching_finds_as_many_pairs_as_brute_force():
    rng = random.Random(7)
    for _ in range(60):
        gold = [box(rng.uniform(0, 40), rng.uniform(0, 40), 20, 20) for _ in range(4)]
        answer = [box(rng.uniform(0, 40), rng.uniform(0, 40), 20, 20) for _ in range(3)]
        good = boxes.iou_matrix(boxes.as_array(answer), boxes.as_array(gold)) >= 0.5
        best = max(
            sum(good[i, j] for i, j in enumerate(perm))
            for perm in itertools.permutations(range(4), 3)
        )
        assert boxes.compare(answer, gold).matched == best


def test_boxes_of_different_labels_never_match():
    result = boxes.compare([box(0, 0, 10, 10, "person")], [box(0, 0, 10, 10, "car")])
    assert result.f1 == 0
    assert result.localisation_f1 == 1.0
    assert result.label_accuracy == 0.0


def test_empty_answers_to_empty_images_score_one_and_a_miss_scores_zero():
    empty, one = {"boxes": []}, {"boxes": [box(0, 0, 10, 10)]}
    assert KIND.score(empty, empty, schema=SCHEMA, quality=QUALITY) == 1.0
    assert KIND.score(empty, one, schema=SCHEMA, quality=QUALITY) == 0.0
    assert KIND.score(one, empty, schema=SCHEMA, quality=QUALITY) == 0.0
    missed = boxes.compare([], [box(0, 0, 10, 10)])
    assert (missed.precision, missed.recall, missed.mean_iou) == (1.0, 0.0, None)


def test_project_iou_threshold_decides_a_match():
    answer, gold = {"boxes": [box(5, 0, 10, 10)]}, {"boxes": [box(0, 0, 10, 10)]}
    assert KIND.score(answer, gold, schema=SCHEMA, quality={"iou_threshold": 0.5}) == 0.0
    assert KIND.score(answer, gold, schema=SCHEMA, quality={"iou_threshold": 0.3}) == 1.0
    assert KIND.score(answer, gold, schema=SCHEMA, quality={}) == 0.0  # default 0.5


def test_agreement_is_mean_pairwise_f1_and_symmetric():
    a = {"boxes": [box(0, 0, 10, 10), box(50, 50, 10, 10)]}
    b = {"boxes": [box(0, 0, 10, 10)]}
    c = {"boxes": []}
    # F1: a-b 2/3, a-c 0, b-c 0
    assert KIND.agreement([a, b, c], schema=SCHEMA, quality=QUALITY) == pytest.approx(2 / 9)
    assert KIND.agreement([c, b, a], schema=SCHEMA, quality=QUALITY) == pytest.approx(2 / 9)
    assert KIND.agreement([a, a, a], schema=SCHEMA, quality=QUALITY) == 1.0
    assert KIND.agreement([b], schema=SCHEMA, quality=QUALITY) == 1.0
    with pytest.raises(ValueError, match="at least one"):
        KIND.agreement([], schema=SCHEMA, quality=QUALITY)


def test_scores_stay_between_zero_and_one():
    rng = random.Random(3)
    for _ in range(50):
        make = lambda: [  # noqa: E731
            box(rng.uniform(0, 50), rng.uniform(0, 50), rng.uniform(1, 30), rng.uniform(1, 30))
            for _ in range(rng.randint(0, 4))
        ]
        result = boxes.compare(make(), make(), threshold=rng.uniform(0.1, 0.9))
        assert 0 <= result.f1 <= 1
        assert 0 <= result.localisation_f1 <= 1


def test_consensus_keeps_majority_boxes_with_median_corners():
    first = [box(10, 10, 100, 50), box(200, 80, 40, 40, "person")]
    second = [box(12, 10, 100, 50), box(205, 85, 40, 40, "person"), box(500, 500, 10, 10)]
    third = [box(8, 11, 100, 50)]
    consensus = KIND.consolidate(
        [{"boxes": first}, {"boxes": second}, {"boxes": third}], schema=SCHEMA, quality=QUALITY
    )
    assert consensus.result["boxes"] == [
        {"label": "car", "x": 10.0, "y": 10.0, "w": 100.0, "h": 50.0, "votes": 3},
        {"label": "person", "x": 202.5, "y": 82.5, "w": 40.0, "h": 40.0, "votes": 2},
    ]
    assert consensus.result["minority"] == [
        {"label": "car", "x": 500.0, "y": 500.0, "w": 10.0, "h": 10.0, "votes": 1}
    ]
    assert 0.5 < consensus.confidence < 1


def test_consensus_confidence_is_one_for_identical_answers_and_drops_with_strays():
    answer = {"boxes": [box(10, 10, 30, 30), box(60, 60, 20, 20, "person")]}
    same = KIND.consolidate([answer] * 3, schema=SCHEMA, quality=QUALITY)
    assert same.confidence == pytest.approx(1.0)
    assert same.result["boxes"] == [{**b, "votes": 3} for b in answer["boxes"]]
    stray = {"boxes": [*answer["boxes"], box(200, 200, 10, 10)]}
    noisy = KIND.consolidate([answer, answer, stray], schema=SCHEMA, quality=QUALITY)
    # three clusters: two backed fully (1.0 each), the stray left out by 2 of 3
    assert noisy.confidence == pytest.approx((1 + 1 + 2 / 3) / 3)
    empty = KIND.consolidate([{"boxes": []}] * 2, schema=SCHEMA, quality=QUALITY)
    assert (empty.result["boxes"], empty.confidence) == ([], 1.0)


def test_weights_can_outvote_a_head_count():
    drawn = {"boxes": [box(0, 0, 10, 10)]}
    nothing = {"boxes": []}
    even = KIND.consolidate([drawn, drawn, nothing], schema=SCHEMA, quality=QUALITY)
    trusted = KIND.consolidate(
        [drawn, drawn, nothing], schema=SCHEMA, quality=QUALITY, weights=[1, 1, 5]
    )
    assert len(even.result["boxes"]) == 1
    assert trusted.result["boxes"] == []


def test_two_annotators_need_each_other_for_a_box():
    one = {"boxes": [box(0, 0, 10, 10)]}
    consensus = KIND.consolidate([one, {"boxes": []}], schema=SCHEMA, quality=QUALITY)
    assert consensus.result["boxes"] == []
    assert consensus.confidence == pytest.approx(0.5)


def test_weighted_median_matches_numpy_median_with_equal_weights():
    import numpy as np

    from kinds.metrics import weighted_median

    rng = random.Random(1)
    for n in range(1, 8):
        values = [rng.uniform(0, 100) for _ in range(n)]
        assert weighted_median(values, [1.0] * n) == pytest.approx(float(np.median(values)))
    assert weighted_median([1, 2, 100], [1, 1, 5]) == 100
