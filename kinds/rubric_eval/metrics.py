"""The numbers of a rubric eval, pure (no database): scores, agreement with experts, intervals.

* A response's **score** is the points of the criteria it meets over the sum of the rubric's
  positive points, clipped to [0, 1] (a met negative criterion — a pitfall — takes points away).
  A **tag score** is the same sum over the criteria that carry the tag.
* A judge's agreement with the experts is measured on (criterion, response) items both graded:
  **macro-F1** (the mean of the F1 of *met* and of *not met*, so that a judge that says "met"
  to everything does not look good on a set where most criteria are met) and **Cohen's kappa**.
* Intervals are percentile **bootstraps** with a fixed seed, so a page shows the same numbers
  each time: of a mean (resampling prompts), of a metric (resampling items, or whole responses
  when the items are a response's criteria: a cluster bootstrap), and of the
  difference of two model versions' means on the prompts both answered (a *paired* bootstrap:
  two versions cannot be told apart when that interval holds 0).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SEED = 20260512
RESAMPLES = 1000


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def as_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high}


def response_score(rubric: Sequence[dict], met: dict[str, bool]) -> float | None:
    """Points met ÷ positive points, clipped to [0, 1]; ``None`` when the rubric has no positive
    points (nothing to earn) or a criterion has no verdict yet."""
    possible = sum(c["points"] for c in rubric if c["points"] > 0)
    if possible <= 0 or any(c["id"] not in met for c in rubric):
        return None
    earned = sum(c["points"] for c in rubric if met[c["id"]])
    return min(1.0, max(0.0, earned / possible))


def tag_scores(rubric: Sequence[dict], met: dict[str, bool]) -> dict[str, float]:
    """The score over the criteria of each tag (tags whose criteria earn no points are left out)."""
    by_tag: dict[str, list[dict]] = {}
    for criterion in rubric:
        for tag in criterion.get("tags") or ():
            by_tag.setdefault(tag, []).append(criterion)
    scores = {}
    for tag, criteria in sorted(by_tag.items()):
        score = response_score(criteria, met)
        if score is not None:
            scores[tag] = score
    return scores


def _confusion(truth: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """Counts ``[tp, fp, fn, tn]`` with "met" as the positive class."""
    return np.array(
        [
            np.sum(truth & guess),
            np.sum(~truth & guess),
            np.sum(truth & ~guess),
            np.sum(~truth & ~guess),
        ],
        dtype=float,
    )


def _macro_f1_of(counts: np.ndarray) -> np.ndarray:
    """Macro-F1 from confusion counts (last axis ``tp, fp, fn, tn``); a class that never occurs
    and is never guessed has F1 1 (nothing about it was got wrong)."""
    tp, fp, fn, tn = np.moveaxis(counts, -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1_met = np.where(tp + fp + fn == 0, 1.0, 2 * tp / (2 * tp + fp + fn))
        f1_not = np.where(tn + fn + fp == 0, 1.0, 2 * tn / (2 * tn + fn + fp))
    return (f1_met + f1_not) / 2


def _kappa_of(counts: np.ndarray) -> np.ndarray:
    """Cohen's kappa from confusion counts; 1 when both raters give one same answer to every
    item (nothing to explain), 0 when they differ although chance agreement is total."""
    tp, fp, fn, tn = np.moveaxis(counts, -1, 0)
    n = tp + fp + fn + tn
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = (tp + tn) / n
        truth_met, guess_met = (tp + fn) / n, (tp + fp) / n
        expected = truth_met * guess_met + (1 - truth_met) * (1 - guess_met)
        kappa = (observed - expected) / (1 - expected)
    return np.where(expected >= 1.0, np.where(observed >= 1.0, 1.0, 0.0), kappa)


def macro_f1(truth: Sequence[bool], guess: Sequence[bool]) -> float:
    """The mean of the F1 of "met" and of "not met" (HealthBench's measure of a grader)."""
    t, g = np.asarray(truth, dtype=bool), np.asarray(guess, dtype=bool)
    return float(_macro_f1_of(_confusion(t, g)))


def cohen_kappa(truth: Sequence[bool], guess: Sequence[bool]) -> float:
    """Cohen's kappa of two raters on yes/no items."""
    t, g = np.asarray(truth, dtype=bool), np.asarray(guess, dtype=bool)
    if len(t) == 0:
        return float("nan")
    return float(_kappa_of(_confusion(t, g)))


def _percentiles(samples: np.ndarray) -> tuple[float, float]:
    low, high = np.nanpercentile(samples, [2.5, 97.5])
    return float(low), float(high)


@lru_cache(maxsize=8)
def resample_weights(n: int, *, seed: int = SEED, resamples: int = RESAMPLES) -> np.ndarray:
    """How often each of ``n`` units is drawn in each of ``resamples`` bootstrap resamples (a
    ``resamples × n`` matrix of multinomial counts: the same as drawing n indices with
    replacement, but a resample's mean of any column is then one matrix product). Fixed by its
    arguments, so kept (read-only) for the next page."""
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(float)
    weights.flags.writeable = False
    return weights


def bootstrap_columns(values: np.ndarray, weights: np.ndarray) -> list[Interval]:
    """The mean of each column of ``values`` (units × columns, NaN where a unit has no value)
    with its percentile 95% interval over the resamples ``weights`` describes; units without a
    value in a column are left out of that column (its mean is a ratio: drawn values over
    drawn units that have one)."""
    values = np.asarray(values, dtype=float)
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (weights @ filled) / (weights @ present)
    intervals = []
    for column in range(values.shape[1]):
        if not present[:, column].any():
            intervals.append(Interval(float("nan"), float("nan"), float("nan")))
            continue
        low, high = _percentiles(means[:, column])
        intervals.append(
            Interval(float(filled[:, column].sum() / present[:, column].sum()), low, high)
        )
    return intervals


def bootstrap_mean(
    values: Sequence[float], *, seed: int = SEED, resamples: int = RESAMPLES
) -> Interval:
    """The mean with a percentile bootstrap 95% interval (resampling the values)."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    weights = resample_weights(len(x), seed=seed, resamples=resamples)
    return bootstrap_columns(x[:, None], weights)[0]


@dataclass(frozen=True)
class Agreement:
    """A grader against the experts on ``n`` items: macro-F1 and kappa, each with its interval."""

    n: int
    macro_f1: Interval
    kappa: Interval

    def as_dict(self) -> dict:
        return {"n": self.n, "macro_f1": self.macro_f1.as_dict(), "kappa": self.kappa.as_dict()}


def bootstrap_agreement(
    truth: Sequence[bool],
    guess: Sequence[bool],
    *,
    groups: Sequence[object] | None = None,
    seed: int = SEED,
    resamples: int = RESAMPLES,
) -> Agreement:
    """Macro-F1 and kappa of ``guess`` against ``truth`` with percentile bootstrap 95% intervals
    (the same resamples for both).

    Without ``groups`` the items are resampled one by one. With ``groups`` (one label per item,
    e.g. the response it belongs to) whole groups are resampled (a *cluster* bootstrap): the
    criteria of one response are not independent (one careful or careless reading of it moves
    them together), and resampling them one by one would give intervals too narrow."""
    t, g = np.asarray(truth, dtype=bool), np.asarray(guess, dtype=bool)
    nan = Interval(float("nan"), float("nan"), float("nan"))
    if len(t) == 0:
        return Agreement(0, nan, nan)
    cell = t.astype(np.int8) * 2 + g.astype(np.int8)  # 3 tp, 1 fp, 2 fn, 0 tn
    rng = np.random.default_rng(seed)
    if groups is None:
        drawn = cell[rng.integers(0, len(t), size=(resamples, len(t)))]
        counts = np.stack([(drawn == code).sum(axis=1) for code in (3, 1, 2, 0)], axis=-1)
    else:
        if len(groups) != len(t):
            raise ValueError("One group label per item.")
        labels = {label: k for k, label in enumerate(dict.fromkeys(groups))}
        index = np.array([labels[label] for label in groups])
        per_group = np.zeros((len(labels), 4))  # each group's tp, fp, fn, tn
        for column, code in enumerate((3, 1, 2, 0)):
            np.add.at(per_group[:, column], index[cell == code], 1)
        k = len(labels)
        drawn = rng.integers(0, k, size=(resamples, k))
        weights = np.zeros((resamples, k))
        np.add.at(weights, (np.repeat(np.arange(resamples), k), drawn.ravel()), 1)
        counts = weights @ per_group
    whole = _confusion(t, g)
    f1s, kappas = _macro_f1_of(counts.astype(float)), _kappa_of(counts.astype(float))
    return Agreement(
        len(t),
        Interval(float(_macro_f1_of(whole)), *_percentiles(f1s)),
        Interval(float(_kappa_of(whole)), *_percentiles(kappas)),
    )


def paired_difference(
    first: Sequence[float], second: Sequence[float], *, seed: int = SEED, resamples: int = RESAMPLES
) -> Interval:
    """Mean of ``first − second`` over paired prompts, with a bootstrap 95% interval that
    resamples prompts (both versions' scores of a prompt move together)."""
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if len(a) != len(b):
        raise ValueError("Paired scores must have the same length.")
    return bootstrap_mean(a - b, seed=seed, resamples=resamples)
