"""Preference-ranking metrics: verdict agreement, Kendall τ-b, Bradley–Terry consensus.

Choices:

* **Pairwise verdicts** (a response id or ``"tie"``): the same verdict scores 1, a tie against a
  side scores ½ (half right either way), two different sides score 0. The *strength* counts only
  when a project sets ``strength_weight`` > 0: then two answers on the same side lose
  ``strength_weight × |s₁ − s₂| / (scale − 1)``. Default 0, because the DPO export uses only the
  verdict and strength is a noisy self-report.
* **Full orders** score ``(τ_b + 1) / 2`` over the responses both orders rank; ties (an item that
  is itself a list of ids) are handled by τ-b. When τ-b is 0/0 (an all-tied order), both all-tied
  scores 1, otherwise each pair scores as a verdict (tie against an order ½). Our O(N²) τ-b (N ≤ 6)
  is checked against ``scipy.stats.kendalltau`` in the tests; scipy itself is not called here
  because it returns ``nan`` for the edge cases and costs ~100 µs a call.
* **Criteria** (``{criterion: id | "tie"}``) are verdicts too. The main answer weighs
  ``1 − criteria_weight`` and the criteria share ``criteria_weight`` (default ½) equally, over the
  criteria both answers gave; with none in common the main answer is the whole score.
* **Consensus of verdicts**: the verdict with the highest weighted mean score against the answers
  (a plurality where "tie" earns half from each side, so A, A, tie → A; tie, tie, A → tie; A, B →
  tie). Confidence is that mean score.
* **Units for Krippendorff's α** (the dashboard): a two-response verdict gets a canonical
  orientation, the first id in sorted order −1, the second +1 and a tie 0, optionally times the
  strength (then α-ordinal reads "how strongly" too); criteria are nominal units of their own.
* **Consensus of orders**: Bradley–Terry (Newton on log-strengths) on the pairs the orders imply,
  a tie worth half a win to each, weights multiplying counts, and a weak prior (one virtual win and
  loss against a dummy of strength 1) that keeps strengths finite; the order sorts by strength.
  Confidence is the weighted mean score of the answers against that order. The order math (τ-b,
  Bradley–Terry) is shared with the kinds that order candidates too: :mod:`kinds.metrics`. Not
  crowd-kit's ``BradleyTerry``: it takes no ties, fits one global scale, and pulls in pandas and
  transformers.
"""

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from kinds.metrics import (
    check_weights,
    mean_pairwise,
    order_consensus,
    order_score,
    weighted_median,
)

TIE = "tie"


def verdict_score(first: str, second: str) -> float:
    if first == second:
        return 1.0
    if TIE in (first, second):
        return 0.5
    return 0.0


@dataclass(frozen=True)
class RankingSettings:
    mode: str = "pairwise"
    strength_scale: int = 3
    strength_weight: float = 0.0
    criteria_weight: float = 0.5


def main_score(answer: dict, gold: dict, settings: RankingSettings) -> float:
    if settings.mode == "rank":
        return order_score(answer.get("order") or [], gold.get("order") or [])
    first, second = answer.get("preference"), gold.get("preference")
    score = verdict_score(first, second)
    if (
        score == 1.0
        and first != TIE
        and settings.strength_weight > 0
        and settings.strength_scale > 1
    ):
        gap = abs(answer.get("strength", 1) - gold.get("strength", 1))
        score -= settings.strength_weight * gap / (settings.strength_scale - 1)
    return max(0.0, score)


def score(answer: dict, gold: dict, settings: RankingSettings) -> float:
    main = main_score(answer, gold, settings)
    mine, theirs = answer.get("criteria") or {}, gold.get("criteria") or {}
    common = [criterion for criterion in mine if criterion in theirs]
    if not common or settings.criteria_weight <= 0:
        return main
    criteria = sum(verdict_score(mine[c], theirs[c]) for c in common) / len(common)
    return (1 - settings.criteria_weight) * main + settings.criteria_weight * criteria


def agreement(answers: Sequence[dict], settings: RankingSettings) -> float:
    return mean_pairwise(answers, lambda a, b: score(a, b, settings), symmetric=True)


def best_verdict(verdicts: Sequence[str], weights: np.ndarray, candidates: Sequence[str]) -> str:
    """The candidate with the highest weighted score against the verdicts; draws go to "tie"."""
    options = [TIE, *(c for c in candidates if c != TIE)]
    totals = [
        sum(w * verdict_score(v, c) for v, w in zip(verdicts, weights, strict=True))
        for c in options
    ]
    best = max(totals)
    return next(c for c, t in zip(options, totals, strict=True) if t >= best - 1e-9)


@dataclass(frozen=True)
class RankingConsensus:
    result: dict
    confidence: float


def consolidate(
    answers: Sequence[dict],
    settings: RankingSettings,
    *,
    response_ids: Sequence[str] = (),
    weights: Sequence[float] | None = None,
) -> RankingConsensus:
    w = check_weights(weights, len(answers))
    result: dict = {}
    if settings.mode == "rank":
        consensus = order_consensus(
            [a.get("order") or [] for a in answers], w, items=list(response_ids)
        )
        result["order"], result["scores"] = consensus.order, consensus.scores
    else:
        verdicts = [a.get("preference") for a in answers]
        candidates = list(response_ids) or [v for v in dict.fromkeys(verdicts) if v is not None]
        verdict = best_verdict(verdicts, w, candidates)
        backers = [
            (a.get("strength", 1), wt)
            for a, wt in zip(answers, w, strict=True)
            if a.get("preference") == verdict
        ]
        strength = (
            round(weighted_median([s for s, _ in backers], [wt for _, wt in backers]))
            if backers
            else 1
        )
        result["preference"], result["strength"] = verdict, max(1, int(strength))
    criteria: dict[str, str] = {}
    for criterion in dict.fromkeys(c for a in answers for c in (a.get("criteria") or {})):
        given = [
            (a["criteria"][criterion], wt)
            for a, wt in zip(answers, w, strict=True)
            if criterion in (a.get("criteria") or {})
        ]
        candidates = list(response_ids) or list(dict.fromkeys(v for v, _ in given))
        criteria[criterion] = best_verdict(
            [v for v, _ in given], np.array([wt for _, wt in given]), candidates
        )
    result["criteria"] = criteria
    result["rationale"] = ""
    scores = np.array([score(a, result, settings) for a in answers])
    return RankingConsensus(result=result, confidence=float(np.dot(scores, w) / w.sum()))


def preference_value(result: dict, response_ids: Sequence[Hashable], *, with_strength=False):
    """A two-response verdict as −1 (first id in sorted order), 0 (tie) or +1, or ``None``."""
    preference = result.get("preference")
    first, second = sorted(response_ids)[:2] if len(response_ids) == 2 else (None, None)
    sign = {first: -1, "tie": 0, second: 1}.get(preference) if first is not None else None
    if sign is None:
        return None
    return sign * result.get("strength", 1) if with_strength else sign


def preference_units(
    tasks: Iterable[tuple[Sequence[Hashable], Sequence[dict]]], *, with_strength: bool = False
) -> list[list]:
    """Units for α from ``(response_ids, results)`` per two-response pairwise task."""
    return [
        [preference_value(r, ids, with_strength=with_strength) for r in results]
        for ids, results in tasks
    ]


def criteria_units(results_per_task: Iterable[Sequence[dict]]) -> dict[str, list[list]]:
    """Nominal units per criterion: ``{criterion: [[answers to task 1], …]}``."""
    units: dict[str, list[list]] = {}
    for results in results_per_task:
        names = dict.fromkeys(c for r in results for c in (r.get("criteria") or {}))
        for name in names:
            units.setdefault(name, []).append(
                [(r.get("criteria") or {}).get(name) for r in results]
            )
    return units
