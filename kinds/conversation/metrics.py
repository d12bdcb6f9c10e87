"""Conversation metrics: rubric scores on ordinal scales, typed spans, orders of candidates.

An answer is read as *units* (a judged turn ``turn:3``, a candidate ``candidate:a``, the whole
``conversation``), each with a score per criterion and typed character spans. Choices:

* **Scores**: two scores of a criterion on a k-point scale agree by ``1 − |a − b| / (k − 1)`` (the
  ordinal distance: 4 against 5 on 1–5 is 0.75). The scores part of a comparison is the mean over
  every (unit, criterion) either answer scored; one that only one answer scored counts 0.
* **Spans**: character-level overlap F1 of typed marks: each answer marks a set of (unit, type,
  character) triples, and ``F1 = 2 |A ∩ B| / (|A| + |B|)``; a span of another type does not count,
  overlapping marks of one type are one mark. Two answers that mark nothing agree (1.0): it is the
  answer "nothing here is wrong". The part exists when the project has error types.
* **Order of candidates**: ``(τ_b + 1) / 2`` as the ranking kind scores full orders.
* **Score against gold** (and the similarity of two answers): the mean of the parts above that
  apply. Rewrites and written turns are free text with no right answer to measure: they are not
  compared, except when nothing else is (a write-only project, no criteria), where word accuracy
  (1 − WER) of the written text is the whole score.
* **Consensus**: per (unit, criterion) the weighted *lower* median score, a real point on the
  scale (1, 2 → 1; 1, 2, 2 → 2); spans: the characters a strict majority (by weight) marked with
  the same type, joined into spans (a note comes from an answer's span of that type that covers
  the consensus span's start); the order: Bradley–Terry, as the ranking kind. Rewrites, written
  turns and the rationale are never averaged: they come from the *medoid* answer (the one most
  similar to the others), and the review sampling of the project decides who reads them; a
  reviewer's fix is the accepted result.
* **Confidence**: the weighted mean similarity of the answers to the consensus.
* **Krippendorff's α** per criterion, ordinal, one unit per (task, unit): see ``alpha_units``.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from kinds.metrics import (
    check_weights,
    mean_pairwise,
    order_consensus,
    order_score,
    word_accuracy,
)

CONVERSATION = "conversation"
Key = tuple[str, str]  # (unit, criterion)
Interval = tuple[int, int]


@dataclass(frozen=True)
class Rubric:
    """What the metrics need of a schema: each criterion's number of points, the error types."""

    scales: dict[str, int]
    error_types: tuple[str, ...] = ()


def ordinal_agreement(a: int, b: int, scale: int) -> float:
    """``1 − |a − b| / (k − 1)`` on a k-point scale."""
    if scale <= 1:
        return 1.0 if a == b else 0.0
    return max(0.0, 1.0 - abs(a - b) / (scale - 1))


def units(result: dict) -> Iterable[tuple[str, dict]]:
    """(unit name, the part of the result that scores and marks it)."""
    for turn in result.get("turns") or []:
        yield f"turn:{turn.get('index')}", turn
    for candidate in result.get("candidates") or []:
        yield f"candidate:{candidate.get('id')}", candidate
    yield CONVERSATION, {"scores": result.get("scores") or {}}


def scores_of(result: dict) -> dict[Key, int]:
    return {
        (unit, criterion): value
        for unit, part in units(result)
        for criterion, value in (part.get("scores") or {}).items()
    }


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals covering the same characters."""
    out: list[list[int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def marks_of(result: dict) -> dict[Key, list[Interval]]:
    """Merged character intervals per (unit, error type)."""
    raw: dict[Key, list[Interval]] = {}
    for unit, part in units(result):
        for span in part.get("spans") or []:
            raw.setdefault((unit, span.get("type")), []).append((span["start"], span["end"]))
    return {key: merged(intervals) for key, intervals in raw.items()}


def covered(intervals: Sequence[Interval]) -> int:
    return sum(end - start for start, end in intervals)


def overlap(first: Sequence[Interval], second: Sequence[Interval]) -> int:
    """Characters in both (each list merged)."""
    i = j = total = 0
    while i < len(first) and j < len(second):
        start, end = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        total += max(0, end - start)
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return total


def span_f1(first: dict, second: dict) -> float:
    """Character-level F1 of the typed marks of two answers; 1.0 when neither marks anything."""
    a, b = marks_of(first), marks_of(second)
    size = sum(covered(v) for v in a.values()) + sum(covered(v) for v in b.values())
    if size == 0:
        return 1.0
    both = sum(overlap(a[key], b[key]) for key in a.keys() & b.keys())
    return 2 * both / size


def written_text(result: dict) -> str:
    parts = [m.get("content", "") for m in result.get("written") or []]
    parts += [turn.get("rewrite") or "" for turn in result.get("turns") or []]
    return "\n".join(part for part in parts if part)


def similarity(first: dict, second: dict, rubric: Rubric) -> float:
    """How well two answers (or an answer and gold) match, from 0 to 1 (symmetric)."""
    parts: list[float] = []
    a, b = scores_of(first), scores_of(second)
    keys = a.keys() | b.keys()
    if keys:
        total = 0.0
        for key in keys:
            if key in a and key in b:
                total += ordinal_agreement(a[key], b[key], rubric.scales.get(key[1], 2))
        parts.append(total / len(keys))
    if rubric.error_types:
        parts.append(span_f1(first, second))
    if first.get("order") and second.get("order"):
        parts.append(order_score(first["order"], second["order"]))
    if not parts:
        mine, theirs = written_text(first), written_text(second)
        if not mine and not theirs:
            return 1.0
        both_ways = word_accuracy(mine, theirs) + word_accuracy(theirs, mine)
        return both_ways / 2
    return sum(parts) / len(parts)


def agreement(results: Sequence[dict], rubric: Rubric) -> float:
    return mean_pairwise(results, lambda a, b: similarity(a, b, rubric), symmetric=True)


def lower_weighted_median(values: Sequence[int], weights: Sequence[float]) -> int:
    """The smallest value whose cumulative weight reaches half the total: a point on the scale."""
    pairs = sorted(zip(values, weights, strict=True))
    total = sum(weight for _, weight in pairs)
    cumulative = 0.0
    for value, weight in pairs:
        cumulative += weight
        if cumulative >= total / 2 - 1e-9 * total:
            return value
    return pairs[-1][0]


def majority_intervals(
    answers: Sequence[Sequence[Interval]], weights: Sequence[float], total: float
) -> list[Interval]:
    """Characters covered by more than half of ``total`` weight, as intervals."""
    events: dict[int, float] = {}
    for intervals, weight in zip(answers, weights, strict=True):
        for start, end in intervals:
            events[start] = events.get(start, 0.0) + weight
            events[end] = events.get(end, 0.0) - weight
    out: list[Interval] = []
    level, opened = 0.0, None
    for position in sorted(events):
        level += events[position]
        inside = level > total / 2 + 1e-9 * total
        if inside and opened is None:
            opened = position
        elif not inside and opened is not None:
            out.append((opened, position))
            opened = None
    return merged(out)


@dataclass(frozen=True)
class ConversationConsensus:
    result: dict
    confidence: float


def consolidate(
    results: Sequence[dict], rubric: Rubric, *, weights: Sequence[float] | None = None
) -> ConversationConsensus:
    """See the module docstring: medians, majority spans, Bradley–Terry, the medoid's texts."""
    w = check_weights(weights, len(results))
    total = float(w.sum())
    k = len(results)
    if k == 1:
        return ConversationConsensus(result=dict(results[0]), confidence=1.0)
    pairwise = np.ones((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            pairwise[i, j] = pairwise[j, i] = similarity(results[i], results[j], rubric)
    backing = [float(np.dot(pairwise[i], w) - w[i]) for i in range(k)]
    medoid = results[max(range(k), key=lambda i: (backing[i], -i))]

    scores = [scores_of(r) for r in results]
    marks = [marks_of(r) for r in results]
    notes: dict[Key, list[tuple[Interval, str]]] = {}
    for r in results:
        for unit, part in units(r):
            for span in part.get("spans") or []:
                if span.get("note"):
                    key = (unit, span.get("type"))
                    notes.setdefault(key, []).append(((span["start"], span["end"]), span["note"]))

    def unit_scores(unit: str) -> dict:
        out = {}
        criteria = dict.fromkeys(c for s in scores for (u, c) in s if u == unit)
        for criterion in criteria:
            given = [(s[(unit, criterion)], wt) for s, wt in zip(scores, w, strict=True)
                     if (unit, criterion) in s]  # fmt: skip
            out[criterion] = lower_weighted_median([v for v, _ in given], [wt for _, wt in given])
        return out

    def unit_spans(unit: str) -> list[dict]:
        spans = []
        types = dict.fromkeys(t for m in marks for (u, t) in m if u == unit)
        for kind in types:
            agreed = majority_intervals([m.get((unit, kind), []) for m in marks], w, total)
            for start, end in agreed:
                span = {"start": start, "end": end, "type": kind}
                note = next(
                    (text for (s, e), text in notes.get((unit, kind), []) if s <= start < e), ""
                )
                if note:
                    span["note"] = note
                spans.append(span)
        return sorted(spans, key=lambda s: (s["start"], s["end"], s["type"]))

    medoid_turns = {t.get("index"): t for t in medoid.get("turns") or []}
    indexes = sorted({t.get("index") for r in results for t in r.get("turns") or []})
    turns = []
    for index in indexes:
        turn = {"index": index, "scores": unit_scores(f"turn:{index}")}
        turn["spans"] = unit_spans(f"turn:{index}")
        if medoid_turns.get(index, {}).get("rewrite"):
            turn["rewrite"] = medoid_turns[index]["rewrite"]
        turns.append(turn)
    consensus: dict = {"turns": turns}
    candidate_ids = list(
        dict.fromkeys(c.get("id") for r in results for c in r.get("candidates") or [])
    )
    if candidate_ids:
        consensus["candidates"] = [
            {
                "id": cid,
                "scores": unit_scores(f"candidate:{cid}"),
                "spans": unit_spans(f"candidate:{cid}"),
            }
            for cid in candidate_ids
        ]
    conversation = unit_scores(CONVERSATION)
    if conversation or any("scores" in r for r in results):
        consensus["scores"] = conversation
    orders = [r.get("order") for r in results if r.get("order")]
    if orders:
        backing = [wt for r, wt in zip(results, w, strict=True) if r.get("order")]
        consensus["order"] = order_consensus(orders, check_weights(backing, len(orders))).order
    for key in ("written", "rationale"):
        if key in medoid:
            consensus[key] = medoid[key]
    confidence = sum(
        similarity(r, consensus, rubric) * wt for r, wt in zip(results, w, strict=True)
    )
    return ConversationConsensus(result=consensus, confidence=float(confidence / total))


def alpha_units(tasks: Iterable[Sequence[dict]], criteria: Sequence[str]) -> dict[str, list[list]]:
    """Ordinal units per criterion: one per (task, unit), the scores its annotators gave."""
    out: dict[str, list[list]] = {criterion: [] for criterion in criteria}
    for results in tasks:
        given = [scores_of(r) for r in results]
        keys = dict.fromkeys(key for s in given for key in s)
        for unit, criterion in keys:
            if criterion in out:
                out[criterion].append([s.get((unit, criterion)) for s in given])
    return out
