"""The hooks quality fires, for the apps above it (pay, appeals; see :mod:`labelhub.hooks`).

Answers: an answer's earnings must be written in the same transaction as the event that earns
them (an answer counted by the quality step, an answer rejected by a review), so that no crash
can leave one without the other: those listeners run inside the caller's transaction, and an
exception undoes the event with them.

Pages: My work and the dashboard show what later apps add (earnings, appeals, the fair-pay
check) through listeners that each cost a fixed number of queries whatever the number of answers.
"""

from dataclasses import dataclass, field

from labelhub.hooks import Hook, When


@dataclass(frozen=True)
class Part:
    """A piece of a page another app draws: its template and that template's context."""

    template: str
    context: dict = field(default_factory=dict)


judged = Hook(
    "answers.judged",
    when=When.IN_TRANSACTION,
    arguments="project, answers",
    doc="A batch of the quality step counted these answers (their rows locked by the caller).",
)
rejected = Hook(
    "answers.rejected",
    when=When.IN_TRANSACTION,
    arguments="project, annotation_ids",
    doc="A review rejected these answers (the caller holds their task's lock).",
)
my_work_summary = Hook(
    "my_work.summary",
    when=When.ON_READ,
    arguments="project, user",
    doc="Blocks at the top of My work (earnings, appeals): a list of Part.",
)
my_work_rows = Hook(
    "my_work.rows",
    when=When.ON_READ,
    arguments="project, user, annotations",
    doc="What each answer's row of My work shows: {annotation id: [Part]}.",
)
dashboard_panels = Hook(
    "dashboard.panels",
    when=When.ON_READ,
    arguments="request, project",
    doc='Panels of the quality dashboard (the fair-pay check): safe HTML, or "".',
)
answer_weights_hook = Hook(
    "judging.answer_weights",
    when=When.ON_READ,
    arguments="answers, contributors",
    doc="The weight of each answer in a consensus (a model version's by its standing), or None "
    "to leave them equal; the first listener with weights decides.",
)

answers_judged = judged.send
answers_rejected = rejected.send


def my_work_summary_parts(*, project, user) -> list[Part]:
    answers = my_work_summary.collect(project=project, user=user).values()
    return [part for parts in answers for part in parts]


def my_work_row_parts(*, project, user, annotations: list) -> dict[int, list[Part]]:
    parts: dict[int, list[Part]] = {}
    for by_answer in my_work_rows.collect(
        project=project, user=user, annotations=annotations
    ).values():
        for annotation_id, more in by_answer.items():
            parts.setdefault(annotation_id, []).extend(more)
    return parts
