"""The hooks annotation fires, for the apps above it (see :mod:`labelhub.hooks`).

Dependencies point ``labelhub ← annotation ← quality ← …``: annotation must not import the apps
above it, so they connect listeners to these hooks in their ``AppConfig.ready()``, and the queue
and the services fire them where the event happens.
"""

from labelhub.hooks import Hook, When

submitted = Hook(
    "annotation.submitted",
    when=When.AFTER_COMMIT,
    arguments="annotation_id, project_id",
    doc="A new answer is stored; quality asks for a run of its judging step.",
)
revised = Hook(
    "annotation.revised",
    when=When.IN_TRANSACTION,
    arguments="annotation_id",
    doc="An answer sent back to its author (a review rejected it) comes back corrected: it must "
    "count again exactly when its new result is stored.",
)
tasks_imported_hook = Hook(
    "tasks.imported",
    when=When.AFTER_COMMIT,
    arguments="project_id",
    doc="An import created tasks (the project's model backends pre-label them).",
)
assignment_note = Hook(
    "work.assignment_note",
    when=When.ON_READ,
    arguments="assignment",
    doc="What the work screen says above a task handed out again (the reviewer's reason): "
    'words, or "". One query at most.',
)
result_gate = Hook(
    "answer.gate",
    when=When.ON_READ,
    arguments="project_id, kind, result",
    doc="Asked inside the transaction that would store an answer or a reviewer's fix, once the "
    "kind has cleaned it: words saying why it cannot be stored yet (the sandbox: not proven), "
    'or "". No query for kinds that need nothing.',
)
evidence = Hook(
    "export.evidence",
    when=When.ON_READ,
    arguments="project_id, item",
    doc="Asked for each item an export writes: what an app knows about its result, as a dict "
    "merged into what writers get from context.evidence(item) (the sandbox: the proof that made "
    "an environment task count). One query per item at most, none for items it does not know.",
)
refusal_action = Hook(
    "work.refusal_actions",
    when=When.ON_READ,
    arguments="project, user",
    doc="Links the work screen offers under a refusal of work (appeal a pause): (label, url) "
    "pairs. One query at most.",
)

annotation_submitted = submitted.send
annotation_revised = revised.send
tasks_imported = tasks_imported_hook.send


def assignment_notes(*, assignment) -> list[str]:
    """The notes of an assignment given back after it was finished (one query per listener);
    none for a fresh lease, without a query."""
    if assignment is None or assignment.finished_at is None:
        return []
    return [note for note in assignment_note.collect(assignment=assignment).values() if note]


def refusal_actions(*, project, user) -> list[tuple[str, str]]:
    """The links the work screen shows under a refusal of work."""
    answers = refusal_action.collect(project=project, user=user).values()
    return [action for actions in answers for action in actions]


def result_refusal(*, project_id: int, kind, result: dict) -> str:
    """The first refusal of this content by a listener of :data:`result_gate`, or ""."""
    for refusal in result_gate.collect(project_id=project_id, kind=kind, result=result).values():
        if refusal:
            return refusal
    return ""


def export_evidence(item, *, project_id: int) -> dict:
    """What every listener of ``export.evidence`` knows about an exported item, merged."""
    merged: dict = {}
    for found in evidence.collect(project_id=project_id, item=item).values():
        merged.update(found)
    return merged
