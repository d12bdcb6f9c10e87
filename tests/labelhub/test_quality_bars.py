"""Every quality bar: its default, its range and its message."""

import pytest
from django.core.exceptions import ValidationError

import kinds
from labelhub.quality_bars import BARS, DEFAULT_QUALITY, bars_for, quality_clean


def errors_of(quality, kind=None) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        quality_clean(quality, kind=kind)
    return caught.value.message_dict


def test_empty_bars_get_every_default():
    assert quality_clean({}) == DEFAULT_QUALITY


def test_form_strings_become_numbers():
    cleaned = quality_clean({"overlap": "3", "gold_rate": "0.05", "review_policy": "adaptive"})
    assert (cleaned["overlap"], cleaned["gold_rate"], cleaned["review_policy"]) == (
        3,
        0.05,
        "adaptive",
    )


@pytest.mark.parametrize("policy", ["share", "adaptive", "none"])
def test_every_review_policy_the_readme_names_is_accepted(policy):
    assert quality_clean({"review_policy": policy})["review_policy"] == policy


def test_the_old_name_of_the_adaptive_policy_is_read_as_adaptive():
    assert quality_clean({"review_policy": "target"})["review_policy"] == "adaptive"


def test_each_kind_adds_its_own_bars_with_their_defaults():
    assert quality_clean({}, kind="bbox") == {
        **DEFAULT_QUALITY,
        "iou_threshold": 0.5,
        "box_quorum": 0.5,
    }
    assert quality_clean({"strength_weight": 0.5}, kind="ranking") == {
        **DEFAULT_QUALITY,
        "strength_weight": 0.5,
        "criteria_weight": 0.5,
        "shuffle_candidates": 1,
    }
    assert quality_clean({}, kind="conversation") == {**DEFAULT_QUALITY, "shuffle_candidates": 1}
    assert quality_clean({}, kind="transcription") == DEFAULT_QUALITY
    assert "iou_threshold" in errors_of({"iou_threshold": 0.5}, kind="ranking")
    assert "strength_weight" in errors_of({"strength_weight": 0.5}, kind="bbox")


@pytest.mark.parametrize(
    ("quality", "key", "message"),
    [
        ([], "quality", "must be a JSON object"),
        ({"overlap": 0}, "overlap", "from 1 to 10"),
        ({"overlap": 11}, "overlap", "from 1 to 10"),
        ({"overlap": 2.5}, "overlap", "whole number"),
        ({"overlap": True}, "overlap", "not true or false"),
        ({"overlap": "three"}, "overlap", "Give a number"),
        ({"overlap": ""}, "overlap", "Give a number"),
        ({"lease_minutes": 0}, "lease_minutes", "from 1 to 1440"),
        ({"gold_rate": 0.6}, "gold_rate", "from 0.0 to 0.5"),
        ({"gold_rate": -0.1}, "gold_rate", "from 0.0 to 0.5"),
        ({"qualification_tasks": -1}, "qualification_tasks", "from 0 to 100"),
        ({"qualification_min_score": 1.5}, "qualification_min_score", "from 0.0 to 1.0"),
        ({"accuracy_floor": 2}, "accuracy_floor", "from 0.0 to 1.0"),
        ({"agreement_threshold": -0.5}, "agreement_threshold", "from 0.0 to 1.0"),
        ({"review_policy": "random"}, "review_policy", "'adaptive' (heavier for new"),
        ({"review_first_tasks": -1}, "review_first_tasks", "from 0 to 1000"),
        ({"review_probation_share": 2}, "review_probation_share", "from 0.0 to 1.0"),
        ({"gold_pass_score": 0}, "gold_pass_score", "from 0.05 to 1.0"),
        ({"review_share": 1.2}, "review_share", "from 0.0 to 1.0"),
        ({"review_target_error": 0}, "review_target_error", "from 0.001 to 0.5"),
        ({"review_confidence": 1}, "review_confidence", "from 0.5 to 0.999"),
        ({"overlapp": 3}, "overlapp", "Unknown quality setting"),
    ],
)
def test_bad_bar_is_refused_with_its_message(quality, key, message):
    errors = errors_of(quality)
    assert key in errors, errors
    assert any(message in text for text in errors[key]), errors


@pytest.mark.parametrize(
    ("kind", "quality", "key", "message"),
    [
        ("bbox", {"iou_threshold": 0.05}, "iou_threshold", "from 0.1 to 0.95"),
        ("bbox", {"iou_threshold": 0.99}, "iou_threshold", "from 0.1 to 0.95"),
        ("bbox", {"box_quorum": 1}, "box_quorum", "from 0.0 to 0.99"),
        ("ranking", {"strength_weight": 1.5}, "strength_weight", "from 0.0 to 1.0"),
        ("ranking", {"criteria_weight": "half"}, "criteria_weight", "Give a number"),
    ],
)
def test_bad_bar_of_a_kind_is_refused_with_its_message(kind, quality, key, message):
    errors = errors_of(quality, kind=kind)
    assert key in errors, errors
    assert any(message in text for text in errors[key]), errors


def test_every_bar_explains_itself_in_plain_words():
    assert {bar.name for bar in BARS} | {"review_policy", "queue_order", "rejected_to"} == set(
        DEFAULT_QUALITY
    )
    for kind in kinds.registry():
        for bar in bars_for(kind):
            assert len(bar.help) > 40, bar.name
            assert bar.low <= bar.default <= bar.high, bar.name
