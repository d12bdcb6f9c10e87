"""A project's quality bars: defaults, validation, and the plain words shown beside each setting.

``quality_clean`` is the one gate for every write (the settings form, the API, project creation):
it fills in defaults, checks each bar's type and range, and raises a
:class:`django.core.exceptions.ValidationError` keyed by setting name. Unknown settings are refused
so that a typo (``"overlapp": 3``) does not silently leave the default in force.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

DEFAULT_QUALITY = {
    "overlap": 1,
    "lease_minutes": 30,
    "gold_rate": 0.0,
    "qualification_tasks": 0,
    "qualification_min_score": 0.8,
    "accuracy_floor": 0.0,
    "agreement_threshold": 0.0,
    "review_policy": "share",
    "review_share": 0.1,
    "review_target_error": 0.05,
    "review_confidence": 0.95,
    "iou_threshold": 0.5,
}

REVIEW_POLICIES = ("share", "target")


@dataclass(frozen=True)
class Bar:
    """One setting: its type, its allowed range, a short label and the explanation on the form."""

    name: str
    label: str
    kind: type  # int or float
    low: float
    high: float
    help: str
    step: str = "any"
    only_for: str = ""  # a task kind, when the bar only applies to that kind


BARS = [
    Bar(
        "overlap",
        "Answers per task (overlap)",
        int,
        1,
        10,
        "How many different contributors label each task. 1 is a single pass; 3 lets LabelHub "
        "compare answers and build a consensus, at three times the labeling cost.",
        step="1",
    ),
    Bar(
        "lease_minutes",
        "Minutes to finish a task",
        int,
        1,
        24 * 60,
        "A task handed to a contributor is reserved for them this long. If they do not submit in "
        "time, it goes back to the queue for someone else.",
        step="1",
    ),
    Bar(
        "gold_rate",
        "Share of gold tasks",
        float,
        0.0,
        0.5,
        "How often a contributor is given a task whose answer you already know (0.05 = 1 in 20). "
        "They cannot tell it apart; their answers measure their accuracy. From 0 to 0.5.",
    ),
    Bar(
        "qualification_tasks",
        "Qualification tasks",
        int,
        0,
        100,
        "A new contributor first answers this many gold tasks. 0 means no qualification: "
        "everyone starts on real work at once.",
        step="1",
    ),
    Bar(
        "qualification_min_score",
        "Score to pass qualification",
        float,
        0.0,
        1.0,
        "The average score (0 to 1) on the qualification tasks a contributor needs to reach real "
        "work. 0.8 means 80 % right on average.",
    ),
    Bar(
        "accuracy_floor",
        "Accuracy floor",
        float,
        0.0,
        1.0,
        "A contributor whose gold accuracy is clearly below this (not after one unlucky task, but "
        "when even the optimistic end of the estimate is below) is paused on this project and you "
        "see why. 0 turns the floor off.",
    ),
    Bar(
        "agreement_threshold",
        "Agreement needed to accept",
        float,
        0.0,
        1.0,
        "When several people answer a task, how much they must agree (0 to 1) for the consensus to "
        "be accepted without a reviewer. Tasks below it go to review. 0 never sends a task to "
        "review for disagreement.",
    ),
    Bar(
        "review_share",
        "Share of work reviewed",
        float,
        0.0,
        1.0,
        "With the 'fixed share' policy: the part of each contributor's submissions a reviewer "
        "checks, picked at random (0.1 = 1 in 10).",
    ),
    Bar(
        "review_target_error",
        "Target error rate",
        float,
        0.001,
        0.5,
        "With the 'error target' policy: the highest error rate you accept in the finished data. "
        "New contributors are reviewed heavily until their record shows they stay under it, then "
        "lightly.",
    ),
    Bar(
        "review_confidence",
        "Confidence",
        float,
        0.5,
        0.999,
        "With the 'error target' policy: how sure LabelHub must be that a contributor's error rate "
        "is under the target before it reviews them less (0.95 = 95 % sure).",
    ),
    Bar(
        "iou_threshold",
        "Box overlap to match (IoU)",
        float,
        0.1,
        0.95,
        "Two boxes count as the same object when their overlap (intersection over union) is at "
        "least this. 0.5 is the usual choice; raise it when boxes must be tight.",
        only_for="bbox",
    ),
]
BARS_BY_NAME = {bar.name: bar for bar in BARS}

REVIEW_POLICY_HELP = {
    "share": "Fixed share: review the same share of every contributor's work.",
    "target": "Error target: review new contributors heavily and proven ones lightly, so that the "
    "project's error rate stays under a target with a stated confidence.",
}


def default_quality() -> dict:
    return dict(DEFAULT_QUALITY)


def quality_with_defaults(quality: dict | None) -> dict:
    return {**DEFAULT_QUALITY, **(quality or {})}


def _number(value: object, bar: Bar) -> tuple[float | int | None, str | None]:
    """``value`` as the bar's type, or an error message in plain words."""
    if isinstance(value, bool):
        return None, "Give a number, not true or false."
    if isinstance(value, str):
        try:
            value = float(value.strip()) if value.strip() else None
        except ValueError:
            return None, "Give a number."
        if value is None:
            return None, "Give a number."
    if not isinstance(value, int | float) or value != value:
        return None, "Give a number."
    if bar.kind is int:
        if value != int(value):
            return None, "Give a whole number."
        value = int(value)
    else:
        value = float(value)
    if not bar.low <= value <= bar.high:
        low = int(bar.low) if bar.kind is int else bar.low
        high = int(bar.high) if bar.kind is int else bar.high
        return None, f"Give a value from {low} to {high}."
    return value, None


def quality_clean(quality: dict) -> dict:
    """Validate a project's quality bars; return them complete (defaults filled in).

    Numbers may come as JSON numbers or as form strings. Raises ``ValidationError`` with one entry
    per faulty setting, keyed by its name.
    """
    if not isinstance(quality, dict):
        raise ValidationError({"quality": ["The quality bars must be a JSON object."]})
    errors: dict[str, list[str]] = {}
    merged = quality_with_defaults(quality)
    cleaned: dict = {}
    for key in sorted(set(quality) - set(DEFAULT_QUALITY)):
        errors[key] = ["Unknown quality setting."]
    for bar in BARS:
        value, message = _number(merged[bar.name], bar)
        if message:
            errors[bar.name] = [message]
        else:
            cleaned[bar.name] = value
    policy = merged["review_policy"]
    if policy not in REVIEW_POLICIES:
        errors["review_policy"] = ["The review policy is 'share' (a fixed share) or 'target'."]
    cleaned["review_policy"] = policy
    if errors:
        raise ValidationError(errors)
    return {key: cleaned[key] for key in DEFAULT_QUALITY}
