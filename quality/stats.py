"""Statistics behind contributor standing and review sampling. Pure functions, no Django.

Choices:

* A **check** is a reviewed submission or a gold task; each is right or wrong. Proportions get
  intervals, never the Wald interval (zero width at 0 errors).
* **Wilson** is for display (two-sided). **Clopper–Pearson** (exact, conservative) bounds error
  rates for review sampling. **Jeffreys** (Beta(½, ½) prior) decides the accuracy-floor pause: a
  weak prior, so an optimistic project prior cannot shield a bad contributor, and less
  conservative than Clopper–Pearson, so a good one is not paused for one unlucky task.
* **Auto-pause on the accuracy floor**: only when the one-sided upper bound of the accuracy is
  under the floor (``is_credibly_below``).
* **Review sampling** (Dodge's CSP-1 with a Clopper–Pearson bound in place of "i in a row"):
  every task among a contributor's first ``first_tasks``; then ``probation_share`` until the
  one-sided upper bound of their error rate is under the target; then ``steady_share`` (the
  project's review share). A steady contributor goes back to probation when the bound over the
  last ``window`` checks passes ``return_factor`` × target (hysteresis, so a solid contributor
  does not bounce). Pause when even the lower bound is above the target, or when Wald's SPRT
  (p₀ = 0.4 × target, p₁ = 1.6 × target, α = 5 %, β = 10 %) flags the record.
* Everything the manager sees is written out in words by ``explain_review``.
* scipy's Beta quantiles are the only dependency; statsmodels would add nothing we need.
"""

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import cache


@cache
def _scipy_stats():
    """scipy.stats, imported on first use: its import takes longer than the rest of Django's
    start, and every process (migrate, the server, the worker) would pay it at start-up, though
    most of them never compute an interval."""
    from scipy import stats

    return stats


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def check_counts(successes: int, trials: int) -> None:
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"Counts must satisfy 0 ≤ {successes} ≤ {trials}.")


def check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError("The confidence is between 0 and 1, e.g. 0.95.")


def wilson_interval(successes: int, trials: int, *, confidence: float = 0.95) -> Interval:
    """Two-sided Wilson score interval; (0, 1) when nothing was tried."""
    check_counts(successes, trials)
    check_confidence(confidence)
    if trials == 0:
        return Interval(0.0, 1.0)
    z = _scipy_stats().norm.ppf(1 - (1 - confidence) / 2)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (
        z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    )
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def jeffreys_interval(successes: int, trials: int, *, confidence: float = 0.95) -> Interval:
    """Two-sided equal-tailed interval of the Beta(k + ½, n − k + ½) posterior."""
    check_counts(successes, trials)
    check_confidence(confidence)
    tail = (1 - confidence) / 2
    a, b = successes + 0.5, trials - successes + 0.5
    low = 0.0 if successes == 0 else float(_scipy_stats().beta.ppf(tail, a, b))
    high = 1.0 if successes == trials else float(_scipy_stats().beta.ppf(1 - tail, a, b))
    return Interval(low, high)


def clopper_pearson_interval(successes: int, trials: int, *, confidence: float = 0.95) -> Interval:
    """Two-sided exact (Clopper–Pearson) interval."""
    check_counts(successes, trials)
    check_confidence(confidence)
    tail = (1 - confidence) / 2
    return Interval(
        cp_lower(successes, trials, 1 - tail),
        cp_upper(successes, trials, 1 - tail),
    )


def cp_upper(successes: int, trials: int, confidence: float) -> float:
    if successes == trials:
        return 1.0
    return float(_scipy_stats().beta.ppf(confidence, successes + 1, trials - successes))


def cp_lower(successes: int, trials: int, confidence: float) -> float:
    if successes == 0:
        return 0.0
    return float(_scipy_stats().beta.ppf(1 - confidence, successes, trials - successes + 1))


def upper_bound(
    successes: int, trials: int, *, confidence: float = 0.95, method: str = "clopper-pearson"
) -> float:
    """One-sided upper bound of a proportion: the true value is below it with ``confidence``."""
    check_counts(successes, trials)
    check_confidence(confidence)
    if method == "clopper-pearson":
        return cp_upper(successes, trials, confidence)
    if method == "jeffreys":
        if successes == trials:
            return 1.0
        return float(_scipy_stats().beta.ppf(confidence, successes + 0.5, trials - successes + 0.5))
    if method == "wilson":
        return wilson_interval(successes, trials, confidence=2 * confidence - 1).high
    raise ValueError(f"Unknown method {method!r}.")


def lower_bound(
    successes: int, trials: int, *, confidence: float = 0.95, method: str = "clopper-pearson"
) -> float:
    """One-sided lower bound of a proportion (the mirror image of ``upper_bound``)."""
    check_counts(successes, trials)
    return 1.0 - upper_bound(trials - successes, trials, confidence=confidence, method=method)


def is_credibly_below(
    successes: int,
    trials: int,
    floor: float,
    *,
    confidence: float = 0.95,
    method: str = "jeffreys",
) -> bool:
    """True when even the one-sided upper bound of the accuracy is under ``floor``.

    The accuracy-floor pause: 3 right out of 10 at a floor of 0.7 is credibly below (upper bound
    0.56); 0 out of 1 is not (one unlucky task proves little). No trials prove nothing.
    """
    if trials == 0:
        return False
    return upper_bound(successes, trials, confidence=confidence, method=method) < floor


def checks_needed(target: float, *, confidence: float = 0.95, errors: int = 0) -> int:
    """The fewest checks with ``errors`` errors whose exact upper bound is under ``target``."""
    if not 0 < target < 1:
        raise ValueError("The target error rate is between 0 and 1.")
    # The zero-error case has a closed form; more errors only need more checks.
    n = max(errors + 1, math.ceil(math.log(1 - confidence) / math.log(1 - target)))
    while cp_upper(errors, n, confidence) >= target:
        n += 1
    return n


class Sprt(StrEnum):
    FLAG = "flag"  # the error rate is credibly the bad one
    CLEAR = "clear"  # credibly the acceptable one
    CONTINUE = "continue"


def sprt(
    errors: int,
    checks: int,
    *,
    p0: float,
    p1: float,
    alpha: float = 0.05,
    beta: float = 0.10,
) -> Sprt:
    """Wald's sequential probability ratio test of H₀: p = p₀ against H₁: p = p₁ > p₀."""
    check_counts(errors, checks)
    if not 0 < p0 < p1 < 1:
        raise ValueError("Need 0 < p0 < p1 < 1.")
    g = math.log(p1 / p0) + math.log((1 - p0) / (1 - p1))
    slope = math.log((1 - p0) / (1 - p1)) / g
    if errors >= slope * checks + math.log((1 - beta) / alpha) / g:
        return Sprt.FLAG
    if errors <= slope * checks - math.log((1 - alpha) / beta) / g:
        return Sprt.CLEAR
    return Sprt.CONTINUE


def share_needed(error_upper: float, target: float) -> float:
    """Review share that brings the outgoing error rate ``p·(1 − share)`` down to ``target``.

    Errors found in reviewed tasks are fixed, so after reviewing a share f of work whose error rate
    is at most U, at most about U·(1 − f) of the accepted answers are wrong (the AOQ).
    """
    if error_upper <= target:
        return 0.0
    return 1.0 - target / error_upper


class Stage(StrEnum):
    NEW = "new"
    PROBATION = "probation"
    STEADY = "steady"
    PAUSED = "paused"


@dataclass(frozen=True)
class ReviewPolicy:
    target_error: float = 0.05
    confidence: float = 0.95
    first_tasks: int = 10
    probation_share: float = 0.5
    steady_share: float = 0.1
    window: int = 200
    return_factor: float = 1.5

    @classmethod
    def from_quality(cls, quality: dict) -> "ReviewPolicy":
        """From a project's quality bars (``review_target_error``, ``review_confidence``,
        ``review_share`` as the steady share); the other numbers keep their defaults."""
        return cls(
            target_error=quality.get("review_target_error", cls.target_error),
            confidence=quality.get("review_confidence", cls.confidence),
            steady_share=quality.get("review_share", cls.steady_share),
        )


@dataclass(frozen=True)
class ReviewDecision:
    stage: Stage
    share: float  # share of the contributor's new tasks to review, 0..1
    checked: int  # checks counted (the last ``window``)
    errors: int
    error_upper: float  # one-sided upper bound of the error rate at the policy's confidence
    error_lower: float
    outgoing_error: float  # about this share of accepted answers is wrong after review (≤)
    reason: str


def review_decision(
    *,
    checked: int,
    errors: int,
    previous_stage: Stage | str | None = None,
    policy: ReviewPolicy = ReviewPolicy(),  # frozen, so one shared default is safe
) -> ReviewDecision:
    """How much of a contributor's work to review next, from their last ``policy.window`` checks.

    ``checked``/``errors`` count the contributor's checks (reviews and gold) over the last
    ``policy.window`` (all of them while they have fewer); ``previous_stage`` is the stage the
    last decision gave, which makes the way back to probation stricter than the way out.
    """
    check_counts(errors, checked)
    target, confidence = policy.target_error, policy.confidence
    upper = cp_upper(errors, checked, confidence)
    lower = cp_lower(errors, checked, confidence)
    flagged = (
        checked > 0
        and sprt(errors, checked, p0=0.4 * target, p1=min(0.99, 1.6 * target)) == Sprt.FLAG
    )
    if checked and lower > target:
        stage, share, reason = Stage.PAUSED, 1.0, "lower_bound_above_target"
    elif flagged:
        stage, share, reason = Stage.PAUSED, 1.0, "sequential_test"
    elif checked < policy.first_tasks:
        stage, share, reason = Stage.NEW, 1.0, "first_tasks"
    elif previous_stage == Stage.STEADY and upper <= policy.return_factor * target:
        stage, share, reason = Stage.STEADY, policy.steady_share, "record_holds"
    elif previous_stage == Stage.STEADY:
        stage, share, reason = Stage.PROBATION, policy.probation_share, "record_slipped"
    elif upper < target:
        stage, share, reason = Stage.STEADY, policy.steady_share, "record_proven"
    else:
        stage, share, reason = Stage.PROBATION, policy.probation_share, "not_yet_proven"
    return ReviewDecision(
        stage=stage,
        share=share,
        checked=checked,
        errors=errors,
        error_upper=upper,
        error_lower=lower,
        outgoing_error=upper * (1 - share),
        reason=reason,
    )


def percent(value: float) -> str:
    """0.075 → "7.5%", 0.05 → "5%", 0.1389 → "13.9%", 0.0004 → "0.04%"."""
    text = f"{value * 100:.{2 if 0 < value < 0.001 else 1}f}"
    return text.rstrip("0").rstrip(".") + "%"


def share_in_words(share: float) -> str:
    """1.0 → "every task", 0.5 → "1 in 2", 0.1 → "1 in 10", 0.3 → "30%"."""
    if share >= 1:
        return "every task"
    if share <= 0:
        return "none"
    n = round(1 / share)
    if abs(1 / n - share) < 0.005:
        return f"1 in {n}"
    return percent(share)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def record_in_words(
    name: str, decision: ReviewDecision, confidence: float, *, lower: bool = False
) -> str:
    """What the checks say about a contributor, as a manager would say it: "after 40 checked
    answers with 1 error, Ana's error rate is at most 11.3%, 95% sure" (``lower``: the bound
    below, "at least …")."""
    if decision.checked == 0:
        return f"nothing of {name}'s has been checked yet, so there is no evidence either way"
    errors = "no errors" if decision.errors == 0 else plural(decision.errors, "error")
    bound = (
        f"at least {percent(decision.error_lower)}"
        if lower
        else f"at most {percent(decision.error_upper)}"
    )
    return (
        f"after {plural(decision.checked, 'checked answer')} with {errors}, {name}'s error rate "
        f"is {bound}, {percent(confidence)} sure"
    )


def explain_review(name: str, decision: ReviewDecision, policy: ReviewPolicy) -> str:
    """The rule and its numbers in a sentence or two, for the manager."""
    share = share_in_words(decision.share)
    what = (
        f"Reviewing every one of {name}'s tasks"
        if decision.share >= 1
        else f"Reviewing {share} of {name}'s tasks"
    )
    lower = decision.reason == "lower_bound_above_target"
    record = record_in_words(name, decision, policy.confidence, lower=lower)
    record = record[0].upper() + record[1:]
    target = f"the target is under {percent(policy.target_error)}"
    why = {
        "first_tasks": f"a new contributor's first {policy.first_tasks} tasks are all reviewed",
        "not_yet_proven": f"{target}, so the record is not yet proven",
        "record_proven": f"{target}, and the record proves it",
        "record_holds": (
            f"back to {share_in_words(policy.probation_share)} if that bound passes "
            f"{percent(policy.return_factor * policy.target_error)}"
        ),
        "record_slipped": (
            f"that bound passed {percent(policy.return_factor * policy.target_error)}, "
            f"so back to probation"
        ),
        "lower_bound_above_target": f"above the target of {percent(policy.target_error)}",
        "sequential_test": (
            f"{plural(decision.errors, 'error')} in {decision.checked} checks is too many to be "
            f"bad luck (sequential test)"
        ),
    }[decision.reason]
    if decision.stage == Stage.PAUSED:
        return f"{name} is paused. {record}{': ' if lower else '; '}{why}."
    return f"{what}. {record}; {why}."
