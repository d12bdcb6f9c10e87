"""Known answers for the rubric-eval numbers: score, macro-F1, kappa and bootstrap intervals."""

import numpy as np
import pytest
from scipy import stats

from kinds.rubric_eval import metrics

RUBRIC = [
    {"id": "c1", "criterion": "a", "points": 5, "tags": ["axis:accuracy"]},
    {"id": "c2", "criterion": "b", "points": 3, "tags": ["axis:completeness"]},
    {"id": "c3", "criterion": "c", "points": -4, "tags": ["axis:accuracy"]},
]


@pytest.mark.parametrize(
    ("met", "expected"),
    [
        ({"c1": True, "c2": True, "c3": False}, 1.0),
        ({"c1": True, "c2": False, "c3": True}, (5 - 4) / 8),
        ({"c1": False, "c2": False, "c3": True}, 0.0),  # -4/8 clipped to 0
        ({"c1": False, "c2": True, "c3": False}, 3 / 8),
    ],
)
def test_score_is_met_points_over_positive_points_clipped(met, expected):
    assert metrics.response_score(RUBRIC, met) == pytest.approx(expected)


def test_score_waits_for_every_verdict_and_needs_points_to_earn():
    assert metrics.response_score(RUBRIC, {"c1": True, "c2": True}) is None
    assert metrics.response_score([RUBRIC[2]], {"c3": False}) is None


def test_tag_scores_use_the_criteria_of_each_tag():
    scores = metrics.tag_scores(RUBRIC, {"c1": True, "c2": False, "c3": True})
    assert scores == {"axis:accuracy": pytest.approx(1 / 5), "axis:completeness": 0.0}


@pytest.mark.parametrize(
    ("truth", "guess", "expected"),
    [
        ([1, 1, 1, 0, 0, 0, 0, 1], [1, 0, 1, 0, 1, 0, 0, 1], 0.75),
        ([1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 1, 0], (0.75 + 0.5) / 2),
        ([1, 1, 1, 1], [1, 1, 1, 1], 1.0),  # "not met" never occurs nor is guessed
        ([1, 1, 0, 0], [0, 0, 1, 1], 0.0),
    ],
)
def test_macro_f1_is_the_mean_f1_of_met_and_not_met(truth, guess, expected):
    assert metrics.macro_f1(truth, guess) == pytest.approx(expected)


def test_kappa_of_a_textbook_table():
    # 20 both yes, 5 yes/no, 10 no/yes, 15 both no: p_o = 0.7, p_e = 0.5 → kappa = 0.4
    truth = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    guess = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert metrics.cohen_kappa(truth, guess) == pytest.approx(0.4)
    assert metrics.cohen_kappa([1, 1, 1], [1, 1, 1]) == 1.0
    assert metrics.cohen_kappa([1, 0, 1, 0], [0, 1, 0, 1]) == pytest.approx(-1.0)


def test_bootstrap_mean_matches_scipy_percentile_bootstrap():
    values = np.random.default_rng(7).beta(2, 5, size=300)
    ours = metrics.bootstrap_mean(values, resamples=20_000)
    theirs = stats.bootstrap(
        (values,), np.mean, n_resamples=20_000, method="percentile", random_state=3
    ).confidence_interval
    assert ours.value == pytest.approx(values.mean())
    assert ours.low == pytest.approx(theirs.low, abs=0.003)
    assert ours.high == pytest.approx(theirs.high, abs=0.003)
    assert metrics.bootstrap_mean(values) == metrics.bootstrap_mean(values)  # fixed seed


def test_agreement_intervals_match_a_plain_loop_over_the_same_resamples():
    rng = np.random.default_rng(11)
    truth = rng.random(200) < 0.6
    guess = np.where(rng.random(200) < 0.8, truth, ~truth)
    found = metrics.bootstrap_agreement(truth, guess, seed=5, resamples=500)
    picks = np.random.default_rng(5).integers(0, 200, size=(500, 200))
    f1s = [metrics.macro_f1(truth[p], guess[p]) for p in picks]
    kappas = [metrics.cohen_kappa(truth[p], guess[p]) for p in picks]
    assert found.n == 200
    assert found.macro_f1.value == pytest.approx(metrics.macro_f1(truth, guess))
    assert (found.macro_f1.low, found.macro_f1.high) == pytest.approx(
        tuple(np.percentile(f1s, [2.5, 97.5]))
    )
    assert (found.kappa.low, found.kappa.high) == pytest.approx(
        tuple(np.percentile(kappas, [2.5, 97.5]))
    )
    assert found.kappa.low < found.kappa.value < found.kappa.high


def test_paired_bootstrap_tells_a_real_gap_from_noise():
    rng = np.random.default_rng(3)
    base = rng.random(400)
    better = np.clip(base + 0.05 + rng.normal(0, 0.02, 400), 0, 1)
    gap = metrics.paired_difference(better, base)
    assert gap.low > 0
    same = metrics.paired_difference(base + rng.normal(0, 0.05, 400), base)
    assert same.low < 0 < same.high
    with pytest.raises(ValueError, match="same length"):
        metrics.paired_difference([1.0], [1.0, 0.5])


def test_clustered_agreement_intervals_match_a_plain_loop_over_resampled_responses():
    """Groups (responses) of uneven size, resampled whole: the same draws in a plain loop."""
    rng = np.random.default_rng(21)
    sizes = rng.integers(1, 9, size=60)
    groups = np.repeat(np.arange(60), sizes)
    careful = rng.random(60) < 0.7  # one reading of a response: its criteria move together
    truth = rng.random(len(groups)) < 0.5
    guess = np.where(careful[groups] | (rng.random(len(groups)) < 0.3), truth, ~truth)
    found = metrics.bootstrap_agreement(truth, guess, groups=list(groups), seed=9, resamples=400)
    members = [np.flatnonzero(groups == g) for g in range(60)]
    picks = np.random.default_rng(9).integers(0, 60, size=(400, 60))
    f1s, kappas = [], []
    for pick in picks:
        items = np.concatenate([members[g] for g in pick])
        f1s.append(metrics.macro_f1(truth[items], guess[items]))
        kappas.append(metrics.cohen_kappa(truth[items], guess[items]))
    assert found.n == len(groups)
    assert found.macro_f1.value == pytest.approx(metrics.macro_f1(truth, guess))
    assert (found.macro_f1.low, found.macro_f1.high) == pytest.approx(
        tuple(np.percentile(f1s, [2.5, 97.5]))
    )
    assert (found.kappa.low, found.kappa.high) == pytest.approx(
        tuple(np.percentile(kappas, [2.5, 97.5]))
    )


def test_criteria_that_move_together_count_as_one_response_not_as_many_items():
    """Each response's five criteria graded alike (one reading): the clustered interval is the
    interval of one item per response (macro-F1 and kappa do not change when every count is
    multiplied), and treating the 5 copies as independent items would make it far narrower."""
    rng = np.random.default_rng(4)
    truth = rng.random(80) < 0.5
    guess = np.where(rng.random(80) < 0.8, truth, ~truth)
    one_each = metrics.bootstrap_agreement(truth, guess, groups=list(range(80)))
    copies = metrics.bootstrap_agreement(
        np.repeat(truth, 5), np.repeat(guess, 5), groups=list(np.repeat(np.arange(80), 5))
    )
    assert copies.macro_f1.as_dict() == pytest.approx(one_each.macro_f1.as_dict())
    assert copies.kappa.as_dict() == pytest.approx(one_each.kappa.as_dict())
    naive = metrics.bootstrap_agreement(np.repeat(truth, 5), np.repeat(guess, 5))
    width = copies.macro_f1.high - copies.macro_f1.low
    assert naive.macro_f1.high - naive.macro_f1.low < 0.6 * width
    with pytest.raises(ValueError, match="One group label per item"):
        metrics.bootstrap_agreement([True], [True], groups=[1, 2])
