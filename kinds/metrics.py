"""The quality math of the task kinds: pure functions on plain results, no Django.

Shared helpers here (weights, pairwise means, and the math of orders and of word edits that
several kinds use: a kind never imports another kind); each kind's own math is in its
``metrics.py`` (``kinds/bbox/metrics.py`` …), which its kind class calls from
``score``/``agreement``/``consolidate``. Shared rules, the same for every kind:

* **score** is in [0, 1] and compares one answer with a gold answer.
* **agreement** of k answers is the mean score over the k·(k−1) *ordered* pairs, so a score that is
  not symmetric (1 − WER) still gives a symmetric agreement. One answer has nothing to disagree
  with: its agreement is 1.0 (a single pass is "not contradicted"; callers that need two opinions
  check ``len(results)`` themselves). No answers at all is an error.
* **consensus confidence** is in [0, 1] and says how well the answers back the consensus.
* optional **weights** (e.g. trust from gold accuracy) weigh annotators in the consensus; no
  weights means equal weights.
"""

import unicodedata
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from rapidfuzz.distance import Levenshtein


def mean_pairwise[T](
    items: Sequence[T], similarity: Callable[[T, T], float], *, symmetric: bool = False
) -> float:
    """Mean of ``similarity(a, b)`` over ordered pairs of distinct positions; 1.0 for one item.

    ``symmetric=True`` promises ``similarity(a, b) == similarity(b, a)`` and halves the work.
    """
    if not items:
        raise ValueError("Agreement needs at least one answer.")
    if len(items) == 1:
        return 1.0
    total, count = 0.0, 0
    for i, a in enumerate(items):
        for j, b in enumerate(items):
            if i == j or (symmetric and j < i):
                continue
            total += similarity(a, b)
            count += 1
    return total / count


def check_weights(weights: Sequence[float] | None, count: int) -> np.ndarray:
    """Weights as an array of ``count`` positive floats (all 1.0 when none are given)."""
    if count == 0:
        raise ValueError("A consensus needs at least one answer.")
    if weights is None:
        return np.ones(count)
    array = np.asarray(weights, dtype=float)
    if array.shape != (count,):
        raise ValueError(f"Give one weight per answer ({count}), not {array.shape}.")
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError("Weights are positive numbers.")
    return array


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    """Median that honours weights; equal to ``numpy.median`` when all weights are equal.

    It is the midpoint of the lower and the upper weighted median (the smallest value whose
    cumulative weight reaches half the total, and the smallest that passes it). Plain Python:
    the inputs are a handful of annotators, where numpy's call overhead dominates.
    """
    pairs = sorted(zip(values, weights, strict=True))
    total = sum(weight for _, weight in pairs)
    half, tolerance = total / 2, 1e-9 * total
    cumulative, lower = 0.0, None
    for value, weight in pairs:
        cumulative += weight
        if lower is None and cumulative >= half - tolerance:
            lower = value
        if cumulative > half + tolerance:
            return float((lower + value) / 2)
    raise ValueError("Weights must be positive.")


# --- orders (a ranking's order, a conversation's order of candidates) --------------------------
# Choices are in ``kinds/ranking/metrics.py``'s docstring: τ-b with its 0/0 cases, and
# Bradley–Terry by Newton with a weak prior for the consensus of orders.


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
class OrderConsensus:
    """The consensus of several orders: the ids by Bradley–Terry strength (ties keep the order
    the ids were given in) and each id's strength, rounded to 6 places."""

    order: list
    scores: dict


def order_consensus(
    orders: Sequence[Sequence], weights: np.ndarray, *, items: Sequence[Hashable] = ()
) -> OrderConsensus:
    """Bradley–Terry on the pairs the ``orders`` imply, weighted (``check_weights``); ``items``
    are the ids to order, by default every id the orders name, in the order first named."""
    items = list(items) or list(dict.fromkeys(i for order in orders for i in ranks(order)))
    strengths = bradley_terry(items, implied_wins(orders, items, weights))
    position = {item: p for p, item in enumerate(items)}
    ordered = sorted(items, key=lambda item: (-strengths[position[item]], position[item]))
    return OrderConsensus(
        order=ordered,
        scores={item: round(float(strengths[position[item]]), 6) for item in ordered},
    )


# --- texts (a transcript, a conversation's written reply) --------------------------------------


@dataclass(frozen=True)
class EditCounts:
    substitutions: int
    deletions: int
    insertions: int
    hits: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def reference_length(self) -> int:
        return self.substitutions + self.deletions + self.hits

    @property
    def error_rate(self) -> float:
        """(S + D + I) / N; 0 for two empty sequences, 1 for anything against an empty reference."""
        if self.reference_length == 0:
            return 0.0 if self.insertions == 0 else 1.0
        return self.errors / self.reference_length

    @property
    def match_error_rate(self) -> float:
        total = self.errors + self.hits
        return self.errors / total if total else 0.0


def edit_counts(reference: Sequence, hypothesis: Sequence) -> EditCounts:
    """S, D, I and H of a minimum-edit alignment turning ``reference`` into ``hypothesis``."""
    counts = {"replace": 0, "delete": 0, "insert": 0}
    for op in Levenshtein.editops(reference, hypothesis):
        counts[op.tag] += 1
    return EditCounts(
        substitutions=counts["replace"],
        deletions=counts["delete"],
        insertions=counts["insert"],
        hits=len(reference) - counts["replace"] - counts["delete"],
    )


def word_accuracy(answer: str, reference: str) -> float:
    """``max(0, 1 − WER)`` over the words of two texts after Unicode NFKC (a kind normalises
    further first, as transcription does by its project's rules)."""
    hypothesis = unicodedata.normalize("NFKC", answer).split()
    expected = unicodedata.normalize("NFKC", reference).split()
    return max(0.0, 1.0 - edit_counts(expected, hypothesis).error_rate)
