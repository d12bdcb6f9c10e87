"""The quality math of the task kinds: pure functions on plain results, no Django.

Shared helpers here; each kind's own math is in its ``metrics.py`` (``kinds/bbox/metrics.py`` …),
which its kind class calls from ``score``/``agreement``/``consolidate``. Shared rules, the same for
every kind:

* **score** is in [0, 1] and compares one answer with a gold answer.
* **agreement** of k answers is the mean score over the k·(k−1) *ordered* pairs, so a score that is
  not symmetric (1 − WER) still gives a symmetric agreement. One answer has nothing to disagree
  with: its agreement is 1.0 (a single pass is "not contradicted"; callers that need two opinions
  check ``len(results)`` themselves). No answers at all is an error.
* **consensus confidence** is in [0, 1] and says how well the answers back the consensus.
* optional **weights** (e.g. trust from gold accuracy) weigh annotators in the consensus; no
  weights means equal weights.
"""

from collections.abc import Callable, Sequence

import numpy as np


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
