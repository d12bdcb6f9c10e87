"""A project's quality bars: defaults, validation, and the plain words shown beside each setting.

``quality_clean`` is the one gate for every write (the settings form, the API, project creation):
it fills in defaults, checks each bar's type and range, and raises a
:class:`django.core.exceptions.ValidationError` keyed by setting name. Unknown settings are refused
so that a typo (``"overlapp": 3``) does not silently leave the default in force.
"""

from django.core.exceptions import ValidationError

import kinds
from kinds import QualityBar

REVIEW_POLICIES = ("share", "adaptive", "none")
# Earlier versions called the adaptive policy "target" on the form and in the API; it is still read.
REVIEW_POLICY_ALIASES = {"target": "adaptive"}

Bar = QualityBar

BARS = [
    Bar(
        "overlap",
        "Answers per task (overlap)",
        int,
        1,
        10,
        1,
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
        30,
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
        0.0,
        "How often a contributor is given a task whose answer you already know (0.05 = 1 in 20). "
        "They cannot tell it apart; their answers measure their accuracy. From 0 to 0.5.",
    ),
    Bar(
        "qualification_tasks",
        "Qualification tasks",
        int,
        0,
        100,
        0,
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
        0.8,
        "The average score (0 to 1) on the qualification tasks a contributor needs to reach real "
        "work. 0.8 means 80 % right on average.",
    ),
    Bar(
        "accuracy_floor",
        "Accuracy floor",
        float,
        0.0,
        1.0,
        0.0,
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
        0.0,
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
        0.1,
        "With the 'fixed share' policy: the part of each contributor's submissions a reviewer "
        "checks, picked at random (0.1 = 1 in 10).",
    ),
    Bar(
        "review_target_error",
        "Target error rate",
        float,
        0.001,
        0.5,
        0.05,
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
        0.95,
        "With the 'error target' policy: how sure LabelHub must be that a contributor's error rate "
        "is under the target before it reviews them less (0.95 = 95 % sure).",
    ),
    Bar(
        "review_first_tasks",
        "Tasks reviewed at first",
        int,
        0,
        1000,
        10,
        "With the 'adaptive' policy: every task of a new contributor is reviewed until this many "
        "have been checked.",
        step="1",
    ),
    Bar(
        "review_probation_share",
        "Share reviewed on probation",
        float,
        0.0,
        1.0,
        0.5,
        "With the 'adaptive' policy: after the first tasks, the share reviewed until the record "
        "shows the contributor stays under the target error rate.",
    ),
    Bar(
        "gold_pass_score",
        "Score that counts as right",
        float,
        0.05,
        1.0,
        0.8,
        "A gold answer scoring under this, or a reviewed answer scoring under it against the "
        "accepted result, counts as an error in the contributor's record (it drives review "
        "sampling and the accuracy floor's error counts).",
    ),
]
DEFAULT_QUALITY = {
    **{bar.name: bar.default for bar in BARS},
    "review_policy": "share",
    "queue_order": "priority",
}

QUEUE_ORDER_HELP = {
    "priority": "By priority, then in the order the tasks came in.",
    "low_score": "By priority, then the tasks a model was least sure of first (active learning; "
    "tasks without a model's score come first of all).",
    "random": "By priority, then in a random order (drawn once per task, so it does not change "
    "between claims).",
}

REVIEW_POLICY_HELP = {
    "share": "Fixed share: review the same share of every contributor's work.",
    "adaptive": "Adaptive (error target): review new contributors heavily and proven ones "
    "lightly, so that the project's error rate stays under a target with a stated confidence.",
    "none": "No sampling: nothing is reviewed at random (tasks under the agreement threshold "
    "and tasks a manager flags still go to review).",
}

# Where the task of a rejected answer goes. "author" is for small teams, where nobody else may
# be there to take the slot: the answer waits for its author with the reviewer's reason.
REJECTED_TO_HELP = {
    "others": "Someone else: other contributors answer the task in place of the rejected "
    "answers (their authors never get it again).",
    "author": "Back to its author: each rejected answer goes back to the person who gave it, "
    "with the reviewer's reason, to correct it (it waits for them up to a week, then goes to "
    "someone else).",
}
DEFAULT_QUALITY["rejected_to"] = "others"


def bars_for(kind: str | None) -> list[Bar]:
    """Every project's bars, then the bars of its kind (none when ``kind`` is not given, or is
    no longer installed)."""
    task_kind = kinds.find(kind) if kind else None
    return [*BARS, *(task_kind.quality_bars if task_kind else ())]


def default_quality(kind: str | None = None) -> dict:
    return {**DEFAULT_QUALITY, **{bar.name: bar.default for bar in bars_for(kind)}}


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


def quality_clean(quality: dict, *, kind: str | None = None) -> dict:
    """Validate a project's quality bars; return them complete (defaults filled in).

    ``kind`` adds that kind's own bars (without it, only the bars every project has are known).
    Numbers may come as JSON numbers or as form strings. Raises ``ValidationError`` with one entry
    per faulty setting, keyed by its name.
    """
    if not isinstance(quality, dict):
        raise ValidationError({"quality": ["The quality bars must be a JSON object."]})
    errors: dict[str, list[str]] = {}
    defaults = default_quality(kind)
    merged = {**defaults, **quality}
    cleaned: dict = {}
    for key in sorted(set(quality) - set(defaults)):
        errors[key] = ["Unknown quality setting."]
    for bar in bars_for(kind):
        value, message = _number(merged[bar.name], bar)
        if message:
            errors[bar.name] = [message]
        else:
            cleaned[bar.name] = value
    policy = merged["review_policy"]
    policy = REVIEW_POLICY_ALIASES.get(policy, policy) if isinstance(policy, str) else policy
    if policy not in REVIEW_POLICIES:
        errors["review_policy"] = [
            "The review policy is 'share' (a fixed share), 'adaptive' (heavier for new "
            "contributors, to an error target) or 'none'."
        ]
    cleaned["review_policy"] = policy
    if merged["rejected_to"] not in REJECTED_TO_HELP:
        errors["rejected_to"] = [
            "A rejected answer goes to 'others' (other contributors) or back to its 'author'."
        ]
    cleaned["rejected_to"] = merged["rejected_to"]
    order = merged["queue_order"]
    if order not in QUEUE_ORDER_HELP:
        errors["queue_order"] = [
            "The queue order is 'priority', 'low_score' (a model's lowest score first) or 'random'."
        ]
    cleaned["queue_order"] = order
    if errors:
        raise ValidationError(errors)
    return {key: cleaned[key] for key in defaults}
