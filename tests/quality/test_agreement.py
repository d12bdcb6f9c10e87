"""Krippendorff's alpha against the published example and the krippendorff package."""

import random

import krippendorff
import numpy as np
import pytest

from kinds.ranking import metrics as ranking_metrics
from quality import agreement

NAN = np.nan
# Krippendorff's 4 coders × 12 units example (values 1..5, missing as NaN).
PUBLISHED = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


def as_units(matrix):
    return [
        [None if np.isnan(value) else value for value in column] for column in np.array(matrix).T
    ]


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_alpha_reproduces_the_published_example(level, published):
    assert agreement.krippendorff_alpha(as_units(PUBLISHED), level=level) == pytest.approx(
        published, abs=0.0005
    )


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_alpha_matches_the_krippendorff_package_on_random_data(level):
    rng = random.Random(level)
    for _ in range(20):
        matrix = [
            [rng.choice([1, 2, 3, 4, NAN]) for _ in range(15)] for _ in range(rng.randint(2, 5))
        ]
        try:
            expected = krippendorff.alpha(
                reliability_data=np.array(matrix, dtype=float), level_of_measurement=level
            )
        except ValueError:  # the package refuses data without variation
            expected = None
        ours = agreement.krippendorff_alpha(as_units(matrix), level=level)
        if expected is None or np.isnan(expected):
            assert ours is None
        else:
            assert ours == pytest.approx(expected)


def test_alpha_is_none_without_variation_and_one_for_perfect_agreement():
    assert agreement.krippendorff_alpha([["a", "a"], ["a", "a", "a"]]) is None
    assert agreement.krippendorff_alpha([["a"], ["b"]]) is None  # nothing pairable
    assert agreement.krippendorff_alpha([["a", "a"], ["b", "b"], ["tie", "tie"]]) == 1.0
    assert agreement.alpha_in_words(None) == "n/a (no variation)"
    assert agreement.alpha_in_words(0.7) == "tentative"


def test_preference_values_do_not_depend_on_response_order():
    forward = ranking_metrics.preference_units(
        [(["a", "b"], [{"preference": "a"}, {"preference": "tie"}])]
    )
    backward = ranking_metrics.preference_units(
        [(["b", "a"], [{"preference": "a"}, {"preference": "tie"}])]
    )
    assert forward == backward == [[-1, 0]]
    strong = ranking_metrics.preference_units(
        [(["x", "y"], [{"preference": "y", "strength": 3}])], with_strength=True
    )
    assert strong == [[3]]


def test_preference_alpha_over_tasks():
    tasks = [
        (["a", "b"], [{"preference": "a"}, {"preference": "a"}, {"preference": "a"}]),
        (["a", "b"], [{"preference": "b"}, {"preference": "b"}, {"preference": "tie"}]),
        (["a", "b"], [{"preference": "tie"}, {"preference": "tie"}]),
    ]
    units = ranking_metrics.preference_units(tasks)
    expected = krippendorff.alpha(
        reliability_data=np.array([[-1, 1, 0], [-1, 1, 0], [-1, 0, NAN]], dtype=float),
        level_of_measurement="nominal",
    )
    assert agreement.krippendorff_alpha(units) == pytest.approx(expected)


def test_criteria_units_group_answers_by_criterion():
    results = [
        [{"criteria": {"helpful": "a", "honest": "tie"}}, {"criteria": {"helpful": "a"}}],
        [{"criteria": {"helpful": "b"}}, {"criteria": {"helpful": "a"}}],
    ]
    assert ranking_metrics.criteria_units(results) == {
        "helpful": [["a", "a"], ["b", "a"]],
        "honest": [["tie", None]],
    }
