"""Reading a contributor's standing: intervals, rates and the review rule, from stored counters.

Pure computations over one :class:`ProjectContributor` row (with its ``standing``), so the
dashboard, the API and the review routing agree and no page recomputes history.

Gold accuracy is the mean gold score (a partial box match counts partly). Its interval treats the
score sum as fractional successes: Wilson for display, Jeffreys for the accuracy-floor pause
(``is_credibly_below``), as ``quality/stats.py`` explains.
"""

import dataclasses
from dataclasses import dataclass, field

from annotation.models import ProjectContributor
from labelhub.quality_bars import quality_with_defaults
from quality.stats import (
    Interval,
    ReviewDecision,
    ReviewPolicy,
    Stage,
    explain_review,
    jeffreys_interval,
    record_in_words,
    review_decision,
    share_in_words,
    wilson_interval,
)

GOLD_PASS_SCORE = 0.8  # a gold answer scoring under this counts as an error (bar: gold_pass_score)
# Under ten minutes of active work a rate per hour says nothing yet (a task done in 27 seconds
# is not "133 an hour"): the dashboard says "not enough data yet" and the API gives null.
RATE_MIN_SECONDS = 10 * 60


def gold_pass_score(quality: dict) -> float:
    return float(quality.get("gold_pass_score", GOLD_PASS_SCORE))


def review_policy_for(quality: dict) -> ReviewPolicy:
    """The project's review policy: ``review_first_tasks`` and ``review_probation_share`` may
    change the defaults of the adaptive rule."""
    policy = ReviewPolicy.from_quality(quality)
    return dataclasses.replace(
        policy,
        first_tasks=int(quality.get("review_first_tasks", policy.first_tasks)),
        probation_share=float(quality.get("review_probation_share", policy.probation_share)),
    )


@dataclass(frozen=True)
class ReviewRule:
    share: float
    stage: str
    words: str
    decision: ReviewDecision


def checks_of(pc: ProjectContributor) -> tuple[int, int]:
    """(checked, errors) over the contributor's reviews and gold answers."""
    standing = getattr(pc, "standing", None)
    reviewed = standing.reviewed_count if standing else 0
    review_errors = standing.review_error_count if standing else 0
    gold_errors = standing.gold_error_count if standing else 0
    checked = reviewed + pc.gold_answered_count
    return checked, min(checked, review_errors + gold_errors)


def review_rule_for(*, pc: ProjectContributor, quality: dict, name: str) -> ReviewRule:
    """How much of this contributor's work is reviewed, and why, in words.

    ``review_policy`` ``"adaptive"``: the CSP-1 rule of ``quality.stats.review_decision`` (every
    task at first, then a probation share until the record proves the target, then the project's
    share). ``"share"`` (the default): the project's ``review_share`` for everyone, with the
    record shown beside it. ``"none"``: no sampling (low agreement and flags still go to review).
    """
    quality = quality_with_defaults(quality)
    policy = review_policy_for(quality)
    checked, errors = checks_of(pc)
    standing = getattr(pc, "standing", None)
    previous = standing.review_stage if standing else None
    decision = review_decision(
        checked=checked, errors=errors, previous_stage=previous, policy=policy
    )
    mode = quality.get("review_policy", "share")
    if mode == "adaptive":
        return ReviewRule(
            decision.share, decision.stage, explain_review(name, decision, policy), decision
        )
    share = 0.0 if mode == "none" else float(quality["review_share"])
    record = record_in_words(name, decision, policy.confidence)
    if share <= 0:
        what = "no sampling"
    elif share >= 1:
        what = "reviewing every one"
    else:
        what = f"reviewing {share_in_words(share)}"
    words = (
        f"{what[0].upper()}{what[1:]} of {name}'s tasks (the project's fixed share). "
        f"{record[0].upper()}{record[1:]}."
    )
    stage = Stage.STEADY if share < 1 else Stage.NEW
    return ReviewRule(share, stage, words, decision)


@dataclass(frozen=True)
class StandingView:
    """One row of the contributor table (and of the API)."""

    pc: ProjectContributor
    name: str
    gold_count: int
    gold_accuracy: float | None
    gold_interval: Interval | None
    gold_floor_bound: Interval | None
    peer_agreement: float | None
    reviewed: int
    review_acceptance: float | None
    submitted: int
    active_seconds: int
    per_hour: float | None
    rule: ReviewRule
    # The mean of each part of the gold score, for kinds that report them (TaskKind.gold_parts).
    gold_parts: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.pc.status

    @property
    def pause_reason(self) -> str:
        return self.pc.pause_reason


def standing_view(*, pc: ProjectContributor, quality: dict) -> StandingView:
    quality = quality_with_defaults(quality)
    user = pc.user
    name = user.get_full_name() or user.get_username()
    standing = getattr(pc, "standing", None)
    n = pc.gold_answered_count
    successes = min(float(pc.gold_score_sum), float(n))
    seconds = standing.active_seconds if standing else 0
    submitted = standing.submitted_count if standing else 0
    return StandingView(
        pc=pc,
        name=name,
        gold_count=n,
        gold_accuracy=pc.gold_mean_score,
        gold_interval=wilson_interval(successes, n) if n else None,
        gold_floor_bound=jeffreys_interval(successes, n) if n else None,
        peer_agreement=standing.peer_agreement if standing else None,
        reviewed=standing.reviewed_count if standing else 0,
        review_acceptance=standing.review_acceptance if standing else None,
        submitted=submitted,
        active_seconds=seconds,
        per_hour=(submitted * 3600 / seconds) if seconds >= RATE_MIN_SECONDS else None,
        rule=review_rule_for(pc=pc, quality=quality, name=name),
    )
