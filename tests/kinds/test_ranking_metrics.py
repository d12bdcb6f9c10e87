"""Preference scoring, agreement and consensus: hand-computed cases, scipy as the τ-b oracle."""

import math
import random

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import kendalltau

from kinds import metrics as orders
from kinds.ranking.kind import RankingKind

KIND = RankingKind()
PAIRWISE = {"mode": "pairwise", "strength_scale": 3, "criteria": [], "rationale": "optional"}
RANK = {**PAIRWISE, "mode": "rank"}
DATA = {"prompt": "p", "responses": [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}]}


def pref(preference, strength=1, **criteria):
    return {"preference": preference, "strength": strength, "criteria": criteria}


def order(*ids, **criteria):
    return {"order": list(ids), "criteria": criteria}


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [("a", "a", 1.0), ("tie", "tie", 1.0), ("a", "tie", 0.5), ("tie", "b", 0.5), ("a", "b", 0.0)],
)
def test_pairwise_verdicts_score_one_half_or_zero(first, second, expected):
    assert KIND.score(pref(first), pref(second), schema=PAIRWISE, quality={}) == expected


def test_strength_counts_only_when_the_project_weighs_it():
    weak, strong = pref("a", 1), pref("a", 3)
    assert KIND.score(weak, strong, schema=PAIRWISE, quality={}) == 1.0
    weighted = KIND.score(weak, strong, schema=PAIRWISE, quality={"strength_weight": 0.5})
    assert weighted == pytest.approx(1 - 0.5 * 2 / 2)


def test_criteria_share_half_the_score():
    answer = pref("a", helpful="a", harmless="b")
    gold = pref("a", helpful="a", harmless="a")
    # main 1.0, criteria (1 + 0) / 2 = 0.5 → 0.5·1 + 0.5·0.5
    assert KIND.score(answer, gold, schema=PAIRWISE, quality={}) == pytest.approx(0.75)
    only_main = KIND.score(answer, gold, schema=PAIRWISE, quality={"criteria_weight": 0})
    assert only_main == 1.0


def test_rank_score_is_tau_b_mapped_to_zero_one():
    assert KIND.score(order("a", "b", "c"), order("a", "b", "c"), schema=RANK, quality={}) == 1
    assert KIND.score(order("a", "b", "c"), order("c", "b", "a"), schema=RANK, quality={}) == 0
    # one swapped pair of three: τ = (2 − 1) / 3
    one_swap = KIND.score(order("a", "b", "c"), order("a", "c", "b"), schema=RANK, quality={})
    assert one_swap == pytest.approx((1 / 3 + 1) / 2)


def test_tau_b_matches_scipy_with_and_without_ties():
    rng = random.Random(11)
    items = ["a", "b", "c", "d", "e", "f"]
    for _ in range(100):
        x = {item: rng.randint(1, 4) for item in items}
        y = {item: rng.randint(1, 4) for item in items}
        expected = kendalltau([x[i] for i in items], [y[i] for i in items]).statistic
        ours = orders.kendall_tau_b(x, y)
        if math.isnan(expected):
            assert ours is None
        else:
            assert ours == pytest.approx(expected)


def test_tied_groups_in_an_order_share_a_rank():
    assert orders.ranks(["a", ["b", "c"], "d"]) == {"a": 1, "b": 2.5, "c": 2.5, "d": 4}
    tau = orders.kendall_tau_b(orders.ranks(["a", ["b", "c"]]), orders.ranks(["a", "b", "c"]))
    assert tau == pytest.approx(kendalltau([1, 2.5, 2.5], [1, 2, 3]).statistic)


def test_all_tied_orders_fall_back_to_pair_agreement():
    everything_tied = [["a", "b", "c"]]
    assert orders.order_score(everything_tied, everything_tied) == 1.0
    assert orders.order_score(everything_tied, ["a", "b", "c"]) == 0.5


def test_agreement_is_mean_pairwise_and_symmetric():
    answers = [pref("a"), pref("a"), pref("tie")]
    # pairs: a-a 1, a-tie ½, a-tie ½
    assert KIND.agreement(answers, schema=PAIRWISE, quality={}) == pytest.approx(2 / 3)
    assert KIND.agreement(answers[::-1], schema=PAIRWISE, quality={}) == pytest.approx(2 / 3)
    assert KIND.agreement([pref("b")], schema=PAIRWISE, quality={}) == 1.0
    orders = [order("a", "b", "c"), order("c", "b", "a")]
    assert KIND.agreement(orders, schema=RANK, quality={}) == 0.0


def test_scores_stay_between_zero_and_one():
    rng = random.Random(5)
    ids = ["a", "b", "c", "d"]
    for _ in range(100):
        first, second = ids[:], ids[:]
        rng.shuffle(first)
        rng.shuffle(second)
        value = KIND.score(order(*first), order(*second), schema=RANK, quality={})
        assert 0 <= value <= 1


@pytest.mark.parametrize(
    ("verdicts", "winner", "confidence"),
    [
        (["a", "a", "tie"], "a", (1 + 1 + 0.5) / 3),
        (["tie", "tie", "a"], "tie", (1 + 1 + 0.5) / 3),
        (["a", "b"], "tie", 0.5),
        (["b", "b", "b"], "b", 1.0),
        (["a", "a", "a", "b", "b"], "a", 3 / 5),
    ],
)
def test_pairwise_consensus_is_the_best_backed_verdict(verdicts, winner, confidence):
    consensus = KIND.consolidate(
        [pref(v) for v in verdicts], schema=PAIRWISE, quality={}, data=DATA
    )
    assert consensus.result["preference"] == winner
    assert consensus.confidence == pytest.approx(confidence)


def test_pairwise_consensus_takes_weights_strength_and_criteria():
    answers = [pref("a", 3, helpful="a"), pref("b", 1, helpful="b"), pref("b", 2, helpful="b")]
    plain = KIND.consolidate(answers, schema=PAIRWISE, quality={}, data=DATA)
    assert plain.result["preference"] == "b"
    assert plain.result["strength"] == 2  # median of the backers' 1 and 2, rounded half to even
    assert plain.result["criteria"] == {"helpful": "b"}
    trusted = KIND.consolidate(answers, schema=PAIRWISE, quality={}, data=DATA, weights=[3, 1, 1])
    assert trusted.result["preference"] == "a"
    assert trusted.result["strength"] == 3
    assert trusted.result["criteria"] == {"helpful": "a"}
    assert trusted.confidence == pytest.approx(3 / 5)


def test_bradley_terry_of_two_items_is_the_win_ratio():
    wins = np.array([[0, 3], [1, 0]], dtype=float)
    strengths = orders.bradley_terry(["a", "b"], wins, prior=0)
    assert strengths == pytest.approx([0.75, 0.25])


def test_bradley_terry_matches_the_maximum_likelihood_fit():
    wins = np.array([[0, 4, 2, 1], [2, 0, 3, 3], [1, 1, 0, 2], [1, 1, 2, 0]], dtype=float)

    def negative_log_likelihood(theta):
        full = np.append(theta, 0.0)  # fix the last item's log strength
        diff = full[:, None] - full[None, :]
        return float(-(wins * (diff - np.logaddexp(0, diff))).sum())

    fit = minimize(negative_log_likelihood, np.zeros(3), method="BFGS", options={"gtol": 1e-10})
    expected = np.exp(np.append(fit.x, 0.0))
    expected /= expected.sum()
    ours = orders.bradley_terry(["a", "b", "c", "d"], wins, prior=0)
    assert ours == pytest.approx(expected, abs=1e-5)


def test_bradley_terry_prior_keeps_an_unbeaten_item_finite():
    wins = np.array([[0, 2], [0, 0]], dtype=float)
    strengths = orders.bradley_terry(["a", "b"], wins)
    assert 0.5 < strengths[0] < 1
    assert strengths.sum() == pytest.approx(1)


def test_rank_consensus_orders_by_bradley_terry():
    data = {**DATA, "responses": [{"id": i, "text": i} for i in "abc"]}
    answers = [order("a", "b", "c"), order("a", "b", "c"), order("c", "b", "a")]
    consensus = KIND.consolidate(answers, schema=RANK, quality={}, data=data)
    assert consensus.result["order"] == ["a", "b", "c"]
    scores = consensus.result["scores"]
    assert scores["a"] > scores["b"] > scores["c"]
    assert consensus.confidence == pytest.approx((1 + 1 + 0) / 3)
    outvoted = KIND.consolidate(answers, schema=RANK, quality={}, data=data, weights=[1, 1, 4])
    assert outvoted.result["order"] == ["c", "b", "a"]
