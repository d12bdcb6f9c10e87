"""Interval bounds, the accuracy-floor pause and review sampling, against published figures
(see quality/stats.py) and scipy's own binomial intervals."""

import pytest
from scipy.stats import binomtest

from quality import stats
from quality.stats import ReviewPolicy, Stage


def test_wilson_interval_of_zero_in_ten_by_hand():
    interval = stats.wilson_interval(0, 10)
    # centre = (z²/2n)/(1 + z²/n) = half-width, z = 1.959964
    assert interval.low == 0
    assert interval.high == pytest.approx(0.27754, abs=1e-5)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (0, 20), (3, 10), (7, 10), (50, 100), (199, 200)])
def test_wilson_and_clopper_pearson_match_scipy(k, n):
    result = binomtest(k, n)
    for method, ours in [
        ("wilson", stats.wilson_interval(k, n)),
        ("exact", stats.clopper_pearson_interval(k, n)),
    ]:
        expected = result.proportion_ci(confidence_level=0.95, method=method)
        assert (ours.low, ours.high) == pytest.approx((expected.low, expected.high), abs=1e-9)


@pytest.mark.parametrize(
    ("errors", "checks", "upper"), [(0, 20, 0.139), (3, 100, 0.076), (5, 200, 0.052)]
)
def test_clopper_pearson_upper_bounds_of_error_rates(errors, checks, upper):
    assert stats.upper_bound(errors, checks) == pytest.approx(upper, abs=0.0005)


def test_jeffreys_interval_is_the_beta_half_half_posterior():
    interval = stats.jeffreys_interval(3, 10)
    assert stats.upper_bound(3, 10, method="jeffreys") == pytest.approx(0.558, abs=0.0005)
    assert interval.low < 0.3 < interval.high
    assert stats.jeffreys_interval(0, 5).low == 0
    assert stats.jeffreys_interval(5, 5).high == 1


def test_lower_bound_mirrors_upper_bound():
    assert stats.lower_bound(7, 10) == pytest.approx(1 - stats.upper_bound(3, 10))
    assert stats.lower_bound(0, 10) == 0


@pytest.mark.parametrize(
    ("right", "tried", "floor", "paused"),
    [
        (3, 10, 0.7, True),  # upper bound 0.558
        (2, 6, 0.7, True),  # upper bound 0.659
        (0, 1, 0.7, False),  # one unlucky task proves nothing
        (8, 10, 0.7, False),
        (0, 0, 0.7, False),
        (60, 100, 0.7, True),
        (66, 100, 0.7, False),
    ],
)
def test_accuracy_floor_pauses_only_when_credibly_below(right, tried, floor, paused):
    assert stats.is_credibly_below(right, tried, floor) is paused


def test_accuracy_floor_bound_is_the_published_jeffreys_figure():
    assert stats.upper_bound(2, 6, method="jeffreys") == pytest.approx(0.659, abs=0.0005)


@pytest.mark.parametrize(
    ("target", "errors", "needed"),
    [
        (0.05, 0, 59),
        (0.05, 1, 93),
        (0.05, 2, 124),
        (0.05, 3, 153),
        (0.05, 4, 181),
        (0.05, 5, 208),
        (0.02, 0, 149),
        (0.02, 3, 386),
        (0.10, 0, 29),
        (0.01, 0, 299),
    ],
)
def test_checks_needed_to_bound_an_error_rate(target, errors, needed):
    assert stats.checks_needed(target, errors=errors) == needed


def test_checks_needed_at_ninety_percent():
    assert [stats.checks_needed(t, confidence=0.9) for t in (0.1, 0.05, 0.02)] == [22, 45, 114]


@pytest.mark.parametrize(
    ("errors", "checks", "outcome"),
    [
        (3, 10, "flag"),
        (2, 10, "continue"),
        (4, 30, "flag"),
        (3, 30, "continue"),
        (5, 60, "flag"),
        (0, 35, "continue"),
        (0, 36, "clear"),
    ],
)
def test_sprt_flags_and_clears_at_the_published_counts(errors, checks, outcome):
    assert stats.sprt(errors, checks, p0=0.02, p1=0.08) == outcome


def test_share_needed_keeps_the_outgoing_error_rate_at_target():
    assert stats.share_needed(0.2, 0.05) == pytest.approx(0.75)
    assert 0.2 * (1 - stats.share_needed(0.2, 0.05)) == pytest.approx(0.05)
    assert stats.share_needed(0.04, 0.05) == 0


@pytest.mark.parametrize(
    ("checked", "errors", "previous", "stage", "share"),
    [
        (0, 0, None, Stage.NEW, 1.0),
        (9, 0, None, Stage.NEW, 1.0),
        (30, 0, Stage.NEW, Stage.PROBATION, 0.5),
        (58, 0, Stage.PROBATION, Stage.PROBATION, 0.5),
        (59, 0, Stage.PROBATION, Stage.STEADY, 0.1),
        (92, 1, Stage.PROBATION, Stage.PROBATION, 0.5),
        (93, 1, Stage.PROBATION, Stage.STEADY, 0.1),
        (200, 8, Stage.STEADY, Stage.STEADY, 0.1),  # bound 7.1 % < 7.5 %: holds
        (200, 9, Stage.STEADY, Stage.PROBATION, 0.5),  # bound 7.7 %: back to probation
        (200, 8, Stage.PROBATION, Stage.PROBATION, 0.5),  # the way out is stricter
        (30, 4, Stage.PROBATION, Stage.PAUSED, 1.0),  # lower bound 4.7 %, but the SPRT flags
        (100, 20, Stage.STEADY, Stage.PAUSED, 1.0),  # even the lower bound is above 5 %
    ],
)
def test_review_share_follows_the_record(checked, errors, previous, stage, share):
    decision = stats.review_decision(checked=checked, errors=errors, previous_stage=previous)
    assert (decision.stage, decision.share) == (stage, share)


def test_review_policy_reads_the_projects_quality_bars():
    policy = ReviewPolicy.from_quality(
        {"review_target_error": 0.1, "review_confidence": 0.9, "review_share": 0.2}
    )
    assert (policy.target_error, policy.confidence, policy.steady_share) == (0.1, 0.9, 0.2)
    decision = stats.review_decision(
        checked=22, errors=0, previous_stage="probation", policy=policy
    )
    assert (decision.stage, decision.share) == (Stage.STEADY, 0.2)


def test_review_rule_in_words_for_the_manager():
    policy = ReviewPolicy()
    steady = stats.review_decision(checked=150, errors=3, previous_stage=Stage.STEADY)
    assert stats.explain_review("Maria", steady, policy) == (
        "Reviewing 1 in 10 of Maria's tasks. After 150 checked answers with 3 errors, Maria's "
        "error rate is at most 5.1%, 95% sure; back to 1 in 2 if that bound passes 7.5%."
    )
    slipped = stats.review_decision(checked=61, errors=1, previous_stage=Stage.STEADY)
    assert stats.explain_review("Maria", slipped, policy) == (
        "Reviewing 1 in 2 of Maria's tasks. After 61 checked answers with 1 error, Maria's "
        "error rate is at most 7.5%, 95% sure; that bound passed 7.5%, so back to probation."
    )
    probation = stats.review_decision(checked=40, errors=1, previous_stage=Stage.PROBATION)
    assert stats.explain_review("Ana", probation, policy) == (
        "Reviewing 1 in 2 of Ana's tasks. After 40 checked answers with 1 error, Ana's error "
        "rate is at most 11.3%, 95% sure; the target is under 5%, so the record is not yet "
        "proven."
    )
    new = stats.review_decision(checked=0, errors=0)
    assert stats.explain_review("Ben", new, policy) == (
        "Reviewing every one of Ben's tasks. Nothing of Ben's has been checked yet, so there is "
        "no evidence either way; a new contributor's first 10 tasks are all reviewed."
    )
    flagged = stats.review_decision(checked=30, errors=4)
    assert stats.explain_review("Rui", flagged, policy).endswith(
        "; 4 errors in 30 checks is too many to be bad luck (sequential test)."
    )
    paused = stats.review_decision(checked=10, errors=3)
    assert stats.explain_review("Rui", paused, policy) == (
        "Rui is paused. After 10 checked answers with 3 errors, Rui's error rate is at least "
        "8.7%, 95% sure: above the target of 5%."
    )


def test_shares_and_percentages_in_words():
    assert [stats.share_in_words(s) for s in (1, 0.5, 0.2, 0.1, 0.3)] == [
        "every task",
        "1 in 2",
        "1 in 5",
        "1 in 10",
        "30%",
    ]
    assert [stats.percent(v) for v in (0.05, 0.075, 0.1389, 0.0004, 0)] == [
        "5%",
        "7.5%",
        "13.9%",
        "0.04%",
        "0%",
    ]


def test_counts_are_checked():
    with pytest.raises(ValueError, match="Counts"):
        stats.upper_bound(5, 3)
    with pytest.raises(ValueError, match="confidence"):
        stats.wilson_interval(1, 3, confidence=1.5)
