"""A project's quality bars: the defaults a new project starts with.

Validation of each bar (with the words shown on the form) lives here too as it grows.
"""

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


def default_quality() -> dict:
    return dict(DEFAULT_QUALITY)


def quality_with_defaults(quality: dict | None) -> dict:
    return {**DEFAULT_QUALITY, **(quality or {})}
