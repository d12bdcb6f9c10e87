"""Project-level agreement: Krippendorff's alpha over many tasks and annotators. Pure, no Django.

Choices:

* α = 1 − D_o / D_e from the coincidence matrix, for ``nominal``, ``ordinal`` and ``interval``
  data. It takes any number of annotators per task and missing answers; a unit (task, or task ×
  criterion) with fewer than two values drops out.
* Our own ~40 lines instead of the ``krippendorff`` package at run time: our input is ragged
  (a list of values per unit, any hashable values), not a rater × unit matrix padded with NaN,
  and "no variation at all" must read as ``None`` ("n/a") rather than raise ``ValueError``. The
  package is the test oracle (it reproduces Krippendorff's published 0.743 / 0.815 / 0.849).
* The units come from each task kind (``TaskKind.alpha_questions``): ranking verdicts and
  criteria are built in ``kinds.ranking.metrics``, a conversation's criterion scores are
  ordinal units.
* Read with Krippendorff's bars: α ≥ 0.800 reliable, ≥ 0.667 tentative, below that not reliable.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import permutations

import numpy as np

LEVELS = ("nominal", "ordinal", "interval")


def krippendorff_alpha(units: Iterable[Sequence], *, level: str = "nominal") -> float | None:
    """α over ``units``, each the list of values its annotators gave (``None`` = no answer).

    Returns ``None`` when it is undefined: fewer than two pairable values, or a single value
    used throughout (no variation, D_e = 0).
    """
    if level not in LEVELS:
        raise ValueError(f"The level is one of {', '.join(LEVELS)}.")
    pairable = [[v for v in unit if v is not None] for unit in units]
    pairable = [unit for unit in pairable if len(unit) >= 2]
    distinct = {v for unit in pairable for v in unit}
    try:
        values = sorted(distinct)
    except TypeError:  # mixed types: only nominal data makes sense, and it needs no order
        values = sorted(distinct, key=repr)
    if len(values) < 2:
        return None
    index = {v: i for i, v in enumerate(values)}
    coincidences = np.zeros((len(values), len(values)))
    for unit in pairable:
        m = len(unit)
        for (c, k), count in Counter(
            (index[a], index[b]) for a, b in permutations(unit, 2)
        ).items():
            coincidences[c, k] += count / (m - 1)
    totals = coincidences.sum(axis=1)
    n = totals.sum()
    delta = distances(values, totals, level)
    observed = (coincidences * delta).sum() / n
    expected = (np.outer(totals, totals) * delta).sum() / (n * (n - 1))
    if expected == 0:
        return None
    return float(1 - observed / expected)


def distances(values: list, totals: np.ndarray, level: str) -> np.ndarray:
    """Squared distances δ² between every two values at the given level of measurement."""
    k = len(values)
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "interval":
        numbers = np.asarray(values, dtype=float)
        return (numbers[:, None] - numbers[None, :]) ** 2
    cumulative = np.cumsum(totals)
    delta = np.zeros((k, k))
    for c in range(k):
        for g in range(c + 1, k):
            between = cumulative[g] - (cumulative[c - 1] if c else 0.0)
            delta[c, g] = delta[g, c] = (between - (totals[c] + totals[g]) / 2) ** 2
    return delta


def alpha_in_words(alpha: float | None) -> str:
    if alpha is None:
        return "n/a (no variation)"
    if alpha >= 0.8:
        return "reliable"
    if alpha >= 0.667:
        return "tentative"
    return "not reliable"
