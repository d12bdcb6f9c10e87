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
  Confidence is the weighted mean score of the answers against that order. Not crowd-kit's
  ``BradleyTerry``: it takes no ties, fits one global scale, and pulls in pandas and transformers.
"""

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from kinds.metrics import check_weights, mean_pairwise, weighted_median

TIE = "tie"


def verdict_score(first: str, second: str) -> float:
    if first == second:
        return 1.0
    if TIE in (first, second):
        return 0.5
    return 0.0


def ranks(order: Sequence) -> dict[Hashable, float]:
    """Position of each id (1 = best); ids in a tied group (a list) share their mean position."""
    positions: dict[Hashable, float] = {}
    place = 1
    for item in order:
        group = list(item) if isinstance(item, list | tuple) else [item]
        mean = place + (len(group) - 1) / 2
        for member in group:
            positions[member] = mean
        place += len(group)
    return positions


def kendall_tau_b(first: dict[Hashable, float], second: dict[Hashable, float]) -> float | None:
    """τ-b between two rank maps over their common ids; ``None`` when it is 0/0."""
    common = [item for item in first if item in second]
    concordant = discordant = tied_first = tied_second = 0
    for i, j in combinations(common, 2):
        a = np.sign(first[i] - first[j])
        b = np.sign(second[i] - second[j])
        if a == 0:
            tied_first += 1
        if b == 0:
            tied_second += 1
        if a and b:
            if a == b:
                concordant += 1
            else:
                discordant += 1
    pairs = len(common) * (len(common) - 1) // 2
    denominator = ((pairs - tied_first) * (pairs - tied_second)) ** 0.5
    if denominator == 0:
        return None
    return (concordant - discordant) / denominator


def pair_share(first: dict[Hashable, float], second: dict[Hashable, float]) -> float:
    """Share of common pairs on which the orders agree (a tie against an order counts ½)."""
    common = [item for item in first if item in second]
    pairs = list(combinations(common, 2))
    if not pairs:
        return 1.0
    total = 0.0
    for i, j in pairs:
        a, b = np.sign(first[i] - first[j]), np.sign(second[i] - second[j])
        total += 1.0 if a == b else 0.5 if 0 in (a, b) else 0.0
    return total / len(pairs)


def order_score(order: Sequence, gold: Sequence) -> float:
    """``(τ_b + 1) / 2`` in [0, 1]; see the module docstring for the 0/0 cases."""
    first, second = ranks(order), ranks(gold)
    tau = kendall_tau_b(first, second)
    if tau is None:
        return pair_share(first, second)
    return min(1.0, max(0.0, (tau + 1) / 2))


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


def bradley_terry(
    items: Sequence[Hashable],
    wins: np.ndarray,
    *,
    prior: float = 1.0,
    iterations: int = 100,
    tolerance: float = 1e-10,
) -> np.ndarray:
    """Strengths π (normalised to sum 1) from a matrix ``wins[i, j]`` = (weighted) wins of i over j.

    Maximises the likelihood of ``P(i beats j) = πᵢ / (πᵢ + πⱼ)`` by Newton's method on
    θ = log π (a handful of steps, where Hunter's MM needs hundreds on close calls), with
    ``prior`` virtual wins and losses of each item against a dummy of fixed strength 1. The
    prior makes the problem strictly concave, keeps an unbeaten item finite and joins a
    disconnected graph. ``prior=0`` is the plain maximum-likelihood fit (the first item is held
    at θ = 0), which needs a strongly connected comparison graph.
    """
    n = len(items)
    games = wins + wins.T
    won = wins.sum(axis=1) + prior
    free = slice(0, n) if prior > 0 else slice(1, n)
    theta = np.zeros(n)

    def log_likelihood(t: np.ndarray) -> float:
        diff = t[:, None] - t[None, :]
        pairs = float((wins * (diff - np.logaddexp(0, diff))).sum())
        return pairs + prior * float((t - 2 * np.logaddexp(0, t)).sum())

    current = log_likelihood(theta)
    for _ in range(iterations):
        p = 1 / (1 + np.exp(theta[None, :] - theta[:, None]))  # p[i, j] = P(i beats j)
        q = 1 / (1 + np.exp(-theta))  # P(i beats the dummy)
        gradient = won - (games * p).sum(axis=1) - 2 * prior * q
        curvature = games * p * (1 - p)
        hessian = curvature - np.diag(curvature.sum(axis=1) + 2 * prior * q * (1 - q))
        step = np.zeros(n)
        step[free] = np.linalg.solve(hessian[free, free], -gradient[free])
        scale = 1.0
        while (candidate := log_likelihood(theta + scale * step)) < current - 1e-12:
            scale /= 2  # backtrack: Newton can overshoot far from the optimum
            if scale < 1e-6:
                break
        theta, current = theta + scale * step, candidate
        if np.max(np.abs(scale * step)) < tolerance:
            break
    strength = np.exp(theta - theta.max())
    return strength / strength.sum()


def implied_wins(
    orders: Sequence[Sequence], items: Sequence[Hashable], weights: np.ndarray
) -> np.ndarray:
    index = {item: i for i, item in enumerate(items)}
    wins = np.zeros((len(items), len(items)))
    for order, weight in zip(orders, weights, strict=True):
        positions = ranks(order)
        for a, b in combinations([item for item in positions if item in index], 2):
            i, j = index[a], index[b]
            if positions[a] < positions[b]:
                wins[i, j] += weight
            elif positions[a] > positions[b]:
                wins[j, i] += weight
            else:
                wins[i, j] += weight / 2
                wins[j, i] += weight / 2
    return wins


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
        items = list(response_ids) or list(
            dict.fromkeys(i for a in answers for i in ranks(a.get("order") or []))
        )
        strengths = bradley_terry(
            items, implied_wins([a.get("order") or [] for a in answers], items, w)
        )
        position = {item: p for p, item in enumerate(items)}
        ordered = sorted(items, key=lambda item: (-strengths[position[item]], position[item]))
        result["order"] = ordered
        result["scores"] = {item: round(float(strengths[position[item]]), 6) for item in ordered}
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
