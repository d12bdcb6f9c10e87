"""Hooks the apps above quality (pay, appeals) use, without quality importing them.

Dependencies point ``labelhub ← annotation ← quality ← pay ← appeals``: quality must not import
them, so they register callbacks and providers here (in their ``AppConfig.ready()``).

Answers: an answer's earnings must be written in the same transaction as the event that earns
them (an answer counted by the quality step, an answer rejected by a review), so that no crash
can leave one without the other. These callbacks run at once, inside the caller's transaction,
and an exception undoes the event with them.

My work: the page shows what later apps add (earnings, appeals) through providers that each
cost a fixed number of queries whatever the number of answers listed.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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


# --- My work ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A piece of a page another app draws: its template and that template's context."""

    template: str
    context: dict = field(default_factory=dict)


# provider(*, project, user) -> list[Part]: blocks at the top of the page (earnings, appeals).
_summary_providers: list[Callable[..., list[Part]]] = []
# provider(*, project, user, annotations) -> {annotation id: [Part]}: drawn in each answer's row.
_row_providers: list[Callable[..., dict[int, list[Part]]]] = []


def on_my_work_summary(provider: Callable[..., list[Part]]) -> Callable[..., list[Part]]:
    if provider not in _summary_providers:
        _summary_providers.append(provider)
    return provider


def on_my_work_rows(
    provider: Callable[..., dict[int, list[Part]]],
) -> Callable[..., dict[int, list[Part]]]:
    if provider not in _row_providers:
        _row_providers.append(provider)
    return provider


def my_work_summary_parts(*, project, user) -> list[Part]:
    return [
        part for provider in _summary_providers for part in provider(project=project, user=user)
    ]


def my_work_row_parts(*, project, user, annotations: list) -> dict[int, list[Part]]:
    parts: dict[int, list[Part]] = {}
    for provider in _row_providers:
        for annotation_id, more in provider(
            project=project, user=user, annotations=annotations
        ).items():
            parts.setdefault(annotation_id, []).extend(more)
    return parts
