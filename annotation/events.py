"""Explicit hooks other apps use to react to what happens in annotation, after it is committed.

Dependencies point ``labelhub ← annotation ← quality``: annotation must not import quality, so
quality registers a callback here (in ``QualityConfig.ready()``) and the queue calls
:func:`annotation_submitted` inside its transaction. Each callback runs with the new
annotation's id and its project's once that transaction commits (``robust``: a failing callback
is logged and never undoes or fails the submission). No model signals: the call is visible in
the service.
"""

from collections.abc import Callable
from functools import partial

from django.db import transaction

SubmitCallback = Callable[..., None]  # callback(*, annotation_id: int, project_id: int)
_submit_callbacks: list[SubmitCallback] = []


def on_annotation_submitted(callback: SubmitCallback) -> SubmitCallback:
    """Register ``callback(annotation_id=…, project_id=…)``; registering it twice is harmless."""
    if callback not in _submit_callbacks:
        _submit_callbacks.append(callback)
    return callback


def annotation_submitted(*, annotation_id: int, project_id: int) -> None:
    """Schedule the registered callbacks for after the current transaction commits."""
    for callback in _submit_callbacks:
        transaction.on_commit(
            partial(callback, annotation_id=annotation_id, project_id=project_id), robust=True
        )


# An answer quality sent back to its author (a reviewer rejected it) comes back corrected. These
# callbacks run at once, inside the submit's transaction: the answer must count again exactly
# when its new result is stored.
_revise_callbacks: list[Callable[..., None]] = []


def on_annotation_revised(callback: Callable[..., None]) -> Callable[..., None]:
    """Register ``callback(annotation_id=…)``; registering it twice is harmless."""
    if callback not in _revise_callbacks:
        _revise_callbacks.append(callback)
    return callback


def annotation_revised(*, annotation_id: int) -> None:
    for callback in _revise_callbacks:
        callback(annotation_id=annotation_id)


# What the work screen says above a task handed out again (an answer sent back to its author,
# with the reviewer's reason): ``provider(assignment=…)`` returns words, or "".
_note_providers: list[Callable[..., str]] = []


def on_assignment_note(provider: Callable[..., str]) -> Callable[..., str]:
    if provider not in _note_providers:
        _note_providers.append(provider)
    return provider


def assignment_notes(*, assignment) -> list[str]:
    """The notes of an assignment given back after it was finished (one query per provider);
    none for a fresh lease, without a query."""
    if assignment is None or assignment.finished_at is None:
        return []
    return [note for provider in _note_providers if (note := provider(assignment=assignment))]


ImportCallback = Callable[..., None]  # callback(*, project_id: int)
_import_callbacks: list[ImportCallback] = []


def on_tasks_imported(callback: ImportCallback) -> ImportCallback:
    """Register ``callback(project_id=…)``, run after an import that created tasks commits (the
    backends app pre-labels them)."""
    if callback not in _import_callbacks:
        _import_callbacks.append(callback)
    return callback


def tasks_imported(*, project_id: int) -> None:
    for callback in _import_callbacks:
        transaction.on_commit(partial(callback, project_id=project_id), robust=True)


# What the work screen offers beside a refusal of work (an appeal of a pause):
# ``provider(project=…, user=…)`` returns ``(label, url)`` pairs, or none (one query at most).
_refusal_action_providers: list[Callable[..., list[tuple[str, str]]]] = []


def on_refusal_action(
    provider: Callable[..., list[tuple[str, str]]],
) -> Callable[..., list[tuple[str, str]]]:
    if provider not in _refusal_action_providers:
        _refusal_action_providers.append(provider)
    return provider


def refusal_actions(*, project, user) -> list[tuple[str, str]]:
    """The links the work screen shows under a refusal of work."""
    return [
        action
        for provider in _refusal_action_providers
        for action in provider(project=project, user=user)
    ]


# Gates on an answer's content, asked inside the transaction that would store it (a submission,
# a reviewer's fix), after the kind has cleaned it: ``gate(project_id=…, kind=…, result=…)``
# returns words saying why it cannot be stored yet (the sandbox: "not proven"), or "".
_result_gates: list[Callable[..., str]] = []


def on_result_gate(gate: Callable[..., str]) -> Callable[..., str]:
    if gate not in _result_gates:
        _result_gates.append(gate)
    return gate


def result_refusal(*, project_id: int, kind, result: dict) -> str:
    """The first gate's refusal of this content, or "" (no query for kinds that ask nothing)."""
    for gate in _result_gates:
        if refusal := gate(project_id=project_id, kind=kind, result=result):
            return refusal
    return ""
