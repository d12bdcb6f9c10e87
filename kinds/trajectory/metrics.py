"""The quality math of agent runs: pure functions on cleaned answers, no Django.

A cleaned answer (``TrajectoryKind.clean_result``) rates every agent step (in ``first_error``
mode the ratings follow from the first error) and carries ``first_error_at``, the first error's
position among the agent steps (``None``: no wrong step). So two answers compare without the
task's data. Ratings are compared by their position in the schema's ``ratings`` (0 = best).

* **Against gold** (:func:`gold_parts`): the first wrong step, exact (same step, or both say
  none) and within one step (a missing first error counts as one step past the last);
  per-step agreement (the mean over the agent steps of 1 − |a − b| / (points − 1), so
  "partly correct" against "correct" is half right on a three-point scale); the verdict (same or
  not). The score is the mean of the four.
* **Agreement** of k answers: the mean score over pairs (see ``kinds.metrics``).
  :func:`first_error_share` is the share of pairs that name the same first error.
* **Consensus**: the first error is the earliest step a (weighted) majority calls wrong — in
  ``first_error`` mode the weighted median of the positions, in ``per_step`` mode the earliest
  step whose majority rating is the worst; each step's rating is the weighted plurality (a tie
  goes to the worse rating); the verdict the weighted plurality (a tie goes to the worse verdict);
  rubric scores the weighted median (rounded down); failure modes those a majority tagged.
  Corrections are not averaged: answers that correct the run differently go to review
  (``TrajectoryKind.disagreement``), where the reviewer's fix stands; the consensus keeps those
  of the answer closest to the others among the ones that agree on the first error. The
  confidence is the mean of the weight share behind the first error, the mean share behind each
  step's rating, and the share behind the verdict.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kinds.metrics import check_weights, mean_pairwise, weighted_median

VERDICTS = ("success", "partial", "failure")
DEFAULT_RATINGS = ("correct", "partly correct", "wrong")


@dataclass(frozen=True)
class TrajectoryConsensus:
    result: dict
    confidence: float


def _ratings(schema: dict) -> list[str]:
    return list(schema.get("ratings") or DEFAULT_RATINGS)


def rating_points(result: dict, schema: dict) -> dict[str, int]:
    """Each rated step's position on the scale (0 = best)."""
    ratings = _ratings(schema)
    return {
        step_id: ratings.index(entry["rating"])
        for step_id, entry in (result.get("steps") or {}).items()
        if isinstance(entry, dict) and entry.get("rating") in ratings
    }


def wrong_steps(result: dict, *, schema: dict, data: dict | None = None) -> list[str]:
    """The steps the answer does not count as correct (past ``correct_ratings``), in the run's
    order when the data is given."""
    correct = schema.get("correct_ratings", 1)
    points = rating_points(result, schema)
    wrong = [step_id for step_id, point in points.items() if point >= correct]
    if data is not None:
        order = {step["id"]: i for i, step in enumerate(data.get("steps") or [])}
        wrong.sort(key=lambda s: order.get(s, len(order)))
    return wrong


def _position(result: dict) -> int:
    """The first error's position; no wrong step counts as one past the last agent step."""
    at = result.get("first_error_at")
    return at if isinstance(at, int) else len(result.get("steps") or {})


def gold_parts(result: dict, gold: dict, *, schema: dict) -> dict[str, float]:
    """How an answer matches gold, part by part (each 0..1): ``first_error_exact``,
    ``first_error_within_one``, ``steps`` and ``verdict``."""
    span = max(len(_ratings(schema)) - 1, 1)
    a, b = rating_points(result, schema), rating_points(gold, schema)
    ids = set(a) | set(b)
    if ids:
        # A step only one side rated counts as the furthest apart.
        steps = sum(1 - abs(a[s] - b[s]) / span if s in a and s in b else 0.0 for s in ids)
        steps /= len(ids)
    else:
        steps = 1.0
    return {
        "first_error_exact": float(result.get("first_error") == gold.get("first_error")),
        "first_error_within_one": float(abs(_position(result) - _position(gold)) <= 1),
        "steps": steps,
        "verdict": float(result.get("verdict") == gold.get("verdict")),
    }


def similarity(result: dict, gold: dict, *, schema: dict) -> float:
    parts = gold_parts(result, gold, schema=schema)
    return sum(parts.values()) / len(parts)


def agreement(results: Sequence[dict], *, schema: dict) -> float:
    return mean_pairwise(results, lambda a, b: similarity(a, b, schema=schema), symmetric=True)


def first_error_share(results: Sequence[dict]) -> float:
    """The share of pairs of answers that name the same first error (or both none)."""
    return mean_pairwise(
        results,
        lambda a, b: float(a.get("first_error") == b.get("first_error")),
        symmetric=True,
    )


def _plurality(votes: dict, *, worse_first: Sequence) -> tuple[object, float]:
    """The value with the most weight, a tie going to the one later in ``worse_first``'s
    order reversed (the worse one); and its share of the weight."""
    total = sum(votes.values())
    rank = {value: i for i, value in enumerate(worse_first)}
    winner = max(votes, key=lambda v: (votes[v], -rank.get(v, len(rank))))
    return winner, votes[winner] / total if total else 0.0


def consolidate(
    results: Sequence[dict],
    *,
    schema: dict,
    weights: Sequence[float] | None = None,
    data: dict | None = None,
) -> TrajectoryConsensus:
    w = check_weights(weights, len(results))
    ratings = _ratings(schema)
    worst = ratings[-1]
    total = float(w.sum())
    order = list(dict.fromkeys(s for r in results for s in (r.get("steps") or {})))
    if data is not None:
        judged = [s["id"] for s in data.get("steps") or [] if s.get("source") == "agent"]
        order = [s for s in judged if s in set(order)] + [s for s in order if s not in judged]
    steps: dict[str, dict] = {}
    shares = []
    if schema.get("judging") == "first_error":
        positions = [_position(r) for r in results]
        # The earliest position where more than half the weight has already called a step wrong.
        at = next(
            p
            for p in sorted(set(positions))
            if sum(wi for q, wi in zip(positions, w, strict=True) if q <= p) > total / 2
        )
        first = order[at] if at < len(order) else None
        share = sum(wi for p, wi in zip(positions, w, strict=True) if p == at) / total
        for i, step_id in enumerate(order):
            steps[step_id] = {"rating": ratings[0] if i < at else worst}
    else:
        for step_id in order:
            votes: dict[str, float] = {}
            for result, wi in zip(results, w, strict=True):
                entry = (result.get("steps") or {}).get(step_id)
                if entry and entry.get("rating") in ratings:
                    votes[entry["rating"]] = votes.get(entry["rating"], 0.0) + wi
            if not votes:
                continue
            rating, step_share = _plurality(votes, worse_first=list(reversed(ratings)))
            steps[step_id] = {"rating": rating}
            shares.append(step_share)
        first = next((s for s in order if steps.get(s, {}).get("rating") == worst), None)
        share = (
            sum(wi for r, wi in zip(results, w, strict=True) if r.get("first_error") == first)
            / total
        )
    # The first error's error type: the plurality among those who named that step first.
    if first is not None:
        types: dict[str, float] = {}
        for result, wi in zip(results, w, strict=True):
            entry = (result.get("steps") or {}).get(first) or {}
            if result.get("first_error") == first and entry.get("error"):
                types[entry["error"]] = types.get(entry["error"], 0.0) + wi
        if types:
            error, _ = _plurality(types, worse_first=sorted(types))
            severity = next(
                (result["steps"][first].get("severity") for result in results
                 if (result.get("steps") or {}).get(first, {}).get("error") == error),
                None,
            )  # fmt: skip
            steps[first] = {**steps[first], "error": error}
            if severity:
                steps[first]["severity"] = severity
    verdict_votes: dict[str, float] = {}
    for result, wi in zip(results, w, strict=True):
        if result.get("verdict") in VERDICTS:
            verdict_votes[result["verdict"]] = verdict_votes.get(result["verdict"], 0.0) + wi
    verdict, verdict_share = (
        _plurality(verdict_votes, worse_first=list(reversed(VERDICTS)))
        if verdict_votes
        else (None, 0.0)
    )
    out: dict = {
        "steps": steps,
        "first_error": first,
        "first_error_at": order.index(first) if first is not None else None,
        "verdict": verdict,
    }
    criteria = [c["name"] for c in schema.get("criteria") or []]
    if criteria:
        scores = {}
        for name in criteria:
            given = [
                (r["scores"][name], wi)
                for r, wi in zip(results, w, strict=True)
                if isinstance((r.get("scores") or {}).get(name), int)
            ]
            if given:
                scores[name] = int(weighted_median([v for v, _ in given], [x for _, x in given]))
        out["scores"] = scores
    if schema.get("failure_modes"):
        out["failure_modes"] = [
            mode
            for mode in schema["failure_modes"]
            if sum(
                wi
                for r, wi in zip(results, w, strict=True)
                if mode in (r.get("failure_modes") or [])
            )
            > total / 2
        ]
    agreeing = [i for i, r in enumerate(results) if r.get("first_error") == first]
    if agreeing:
        closest = max(
            agreeing,
            key=lambda i: sum(
                similarity(results[i], other, schema=schema)
                for j, other in enumerate(results)
                if j != i
            ),
        )
        out["corrections"] = list(results[closest].get("corrections") or [])
        if schema.get("critique", "optional") != "none":
            out["critique"] = results[closest].get("critique") or ""
    else:
        out["corrections"] = []
    step_share = sum(shares) / len(shares) if shares else share
    confidence = (share + step_share + verdict_share) / 3
    return TrajectoryConsensus(result=out, confidence=round(float(confidence), 6))


def alpha_units(
    tasks: Iterable[tuple[dict, Sequence[dict]]], *, schema: dict
) -> tuple[list[list], list[list], list[list]]:
    """Units for Krippendorff's alpha: one per task and agent step with each answer's rating
    position (ordinal), one per task with each answer's verdict (nominal), and one per task
    with each answer's first error (nominal: the step's id, or "none")."""
    steps: list[list] = []
    verdicts: list[list] = []
    firsts: list[list] = [
        [r.get("first_error") or "none" for r in results] for _data, results in tasks
    ]
    for data, results in tasks:
        points = [rating_points(r, schema) for r in results]
        judged = [s["id"] for s in (data or {}).get("steps") or [] if s.get("source") == "agent"]
        for step_id in judged or dict.fromkeys(k for p in points for k in p):
            steps.append([p.get(step_id) for p in points])
        verdicts.append(
            [
                VERDICTS.index(r["verdict"]) if r.get("verdict") in VERDICTS else None
                for r in results
            ]
        )
    return steps, verdicts, firsts
