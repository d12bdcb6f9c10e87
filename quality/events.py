"""Hooks the apps above quality use to follow what happens to answers, inside the transaction.

Dependencies point ``labelhub ← annotation ← quality ← pay``: quality must not import pay, yet
an answer's earnings must be written in the same transaction as the event that earns them (an
answer counted by the quality step, an answer rejected by a review), so that no crash can leave
one without the other. The pay app registers its callbacks here (in ``PayConfig.ready()``);
they run at once, inside the caller's transaction, and an exception undoes the event with them.
"""

from collections.abc import Callable, Sequence

JudgedCallback = Callable[..., None]  # callback(*, project, answers: Sequence[Annotation])
RejectedCallback = Callable[..., None]  # callback(*, project, annotation_ids: Sequence[int])

_judged: list[JudgedCallback] = []
_rejected: list[RejectedCallback] = []


def on_answers_judged(callback: JudgedCallback) -> JudgedCallback:
    if callback not in _judged:
        _judged.append(callback)
    return callback


def on_answers_rejected(callback: RejectedCallback) -> RejectedCallback:
    if callback not in _rejected:
        _rejected.append(callback)
    return callback


def answers_judged(*, project, answers: Sequence) -> None:
    """A batch of the quality step counted ``answers`` (their rows are locked by the caller)."""
    for callback in _judged:
        callback(project=project, answers=answers)


def answers_rejected(*, project, annotation_ids: Sequence[int]) -> None:
    """A review rejected these answers (the caller holds their task's lock)."""
    for callback in _rejected:
        callback(project=project, annotation_ids=annotation_ids)
