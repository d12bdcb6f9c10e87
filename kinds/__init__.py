"""Task kinds: one plug-in per kind of work, behind one small interface.

Everything kind-specific lives in the kind's folder, ``kinds/<kind>/``, a Django app: ``kind.py``
(the :class:`TaskKind` subclass), ``metrics.py`` (its quality math), ``formats.py`` (its dataset
writers), ``templates/<kind>/`` (editor, review and context partials, schema builder) and
``static/<kind>/`` (its ES modules and CSS). The rest of LabelHub only talks to a
:class:`TaskKind` and never asks for a kind by name (``tests/test_layout.py`` checks).

A kind is installed by one line in ``INSTALLED_APPS``: its ``AppConfig`` names the kind class in a
``task_kind`` attribute (``task_kind = "kinds.bbox.kind.BoundingBoxKind"``), and :func:`registry`
collects the kinds of the installed apps, in their order. ``settings.LABELHUB_TASK_KINDS`` (a list
of dotted paths), when set, replaces that list (tests use it to plug in a kind of their own).

Shared helpers beside the contract: ``kinds.metrics`` (mean pairwise agreement, weights, the
weighted median), ``kinds.formats`` (the export records and :class:`kinds.formats.ExportFormat`),
``kinds.streams`` (JSON lines, CSV and zip streams) and ``kinds.diffs`` (word diffs).

The interface, all methods pure (no database), each raising
:class:`django.core.exceptions.ValidationError` whose ``message_dict`` keys are paths into the
input (``"labels.2.hotkey"``, ``"responses.0.text"``) so that screens and the API can say where:

``default_schema()``
    The schema a new project starts from.
``clean_schema(schema)``
    Validate a project's schema; return it normalised (defaults filled in).
``clean_data(data, *, schema)``
    Validate one task's ``data``; return it normalised.
``clean_result(result, *, schema, data)``
    Validate an answer (also a gold answer or a model prediction) against the schema and the task.
``answer_data(data, result)``
    The task data an answer is checked against: the stored data plus what the editor learnt and
    sent with the answer (bbox: the natural size of an image given by URL). Used alike on submit,
    on the preview's check and on a reviewer's fix.
``score(result, gold, *, schema, quality)``
    How well an answer matches a gold answer, from 0 to 1 (``quality`` holds e.g. the IoU
    threshold).
``agreement(results, *, schema, quality)``
    How much several answers to one task agree, from 0 to 1 (mean pairwise score).
``consolidate(results, *, schema, quality, weights=None, data=None)``
    One answer made from several, with a confidence from 0 to 1: a :class:`Consensus`.
    ``weights`` (one positive number per answer, e.g. trust from gold accuracy) weigh the
    annotators; none means equal weights. The math lives in each kind's ``metrics.py``.
``editor``
    What the annotator screen needs: a template name and an ES module path.
``media_fields``
    Keys of ``data`` that may hold media (an uploaded file or a URL), and what media each takes.
    ``shows_images(data)`` says from them whether a task is seen as an image (a sensitive one is
    blurred until revealed) or as text (behind a warning).
``quality_bars``
    The quality settings only this kind reads (the IoU to match boxes, the weight of a ranking's
    criteria), as :class:`QualityBar`: the settings form, the API and validation pick them up.

What the screens around the kind ask of it (each optional; the default is a plain fallback):

``schema_builder`` with ``schema_from_form(post)``, ``schema_form(schema=, errors=)`` and
``schema_form_edit(schema=, action=)``
    The settings page's form for the schema: a template partial, the schema the posted fields
    describe (unchecked: ``clean_schema`` checks it), the rows to show, and the rows added or
    removed by the form's buttons. Without a builder the page offers the JSON view alone.
``import_words()``
    What the import form says it takes, in words (the media in ``media_fields`` and, with
    ``answer_file``, a COCO file of boxes among them).
``for_contributor(data)``
    The task's data as the people who label it see it: a comparison is blind, so the kinds that
    compare model outputs drop the ``model`` names (managers, reviewers and exports keep them).
``shows_candidates``, ``candidate_ids(data)`` and ``in_shown_order(data, order)``
    A kind that puts several candidates side by side (ranking's responses, a conversation's
    candidate replies) names their ids in stored order and gives the data with them reordered:
    each contributor sees them in an order of their own (:func:`shown_order`, stable on reload)
    unless the project's ``shuffle_candidates`` bar is 0, and the order shown is kept with the
    answer. Results keep candidate ids, so an order changes no answer's meaning.
``position_outcome(result, *, shown_order, schema)``
    For the dashboard's position-bias report: whether the first candidate shown won, whether the
    answer is a tie, and what share of wins the first place would get by chance, as a
    :class:`PositionOutcome`; ``None`` (the default) when it does not apply.
``summary(data)`` and ``thumbnail_field``
    The data manager's column for a task: its data in one line of words (a conversation's last
    user message and its length, a prompt and its responses) instead of raw JSON; an image kind
    names the ``data`` key whose picture is shown as a thumbnail (and in the grid view).
``export_formats()``
    The dataset files the kind writes, as :class:`kinds.formats.ExportFormat` (name, label,
    content type and writer). Every kind also gets the audit trail.
``review_template``, ``review_summary(result, schema=)``, ``review_views(...)``
    How the review screen shows each answer beside the editor: a template partial, a line in
    words, and what the partial needs (boxes to draw, a word diff against the proposal).
``has_alpha`` and ``alpha_questions(tasks, schema=)``
    Krippendorff's alpha on the dashboard: the questions answered on many tasks (a verdict, a
    criterion), each as units of values with a level of measurement.
``import_formats()`` and ``import_data(data, *, format=)``
    The formats a kind reads on import besides its own shape (:class:`ImportFormat`), and one
    row's data converted from them: the format named on the import (``?format=``), else
    detected from the row. Errors are keyed by the path in the row (``data.messages.3.role``);
    ``clean_data`` then checks the converted data as usual.
``disagreement(results, *, schema=)``
    A difference between several answers that must not be averaged away and goes to review
    whatever the agreement (two different corrections of one step), in words; "" for none.
``has_parts`` and ``agreement_parts(results, schema=)``
    Agreement per part on the dashboard (boxes: per label): the answers of one task, each cut
    down to one part, for ``agreement`` to measure part by part.
``has_gold_parts`` and ``gold_parts(result, gold, *, schema=)``
    How one answer matches gold part by part (agent runs: the first error exactly and within
    one step, the step ratings, the verdict), each 0..1 and named in words; the contributor
    table and its API show each person's mean of every part. ``{}`` (the default): ``score``
    alone.
``has_agreement_shares`` and ``agreement_shares(results, *, schema=)``
    Agreement on one task as plain shares of pairs of answers (agent runs: the share naming the
    same first error), named in words; the dashboard and its API show their mean over recent
    tasks. ``{}`` (the default): none.
``context_template``
    A partial that shows what an answer was given (the prompt and responses, the clip) beside
    the answer cards of the task, my-answer and appeal pages; ``None`` shows nothing.
``model_figures`` and ``measure_prediction(result, reference, schema=, quality=)``
    What the backends page says a model saved: the figures measured on each prediction against
    its reference (boxes: mean IoU and F1; transcripts: WER and CER; by default the agreement),
    as :class:`ModelFigure` (key, words, test id).
``live_mode``
    Whether a project of this kind can talk to the customer's model live (``genai``), as the
    :class:`LiveLimits` of such a conversation (``None``: it cannot).
``answer_file`` and ``read_answer_file(value, *, name=)``
    A file of answers for tasks a project already has (a COCO file of boxes), as
    :class:`AnswerFileFormat`, and the kind's reader of it: a JSON file's content read as an
    :class:`AnswerFile` (each file name's answer, to set as the gold answers or predictions of
    its tasks), ``None`` when the file is not one, :class:`AnswerFileRefused` with its problems
    when it is one but cannot be read. :func:`answer_file_read` asks every installed kind.

Work that must be proven before it counts (each optional):

``needs_proof`` and ``prove(result, *, schema, data, sandbox)``
    A kind whose answers hold code (an RL environment's verifier and reference solution) says
    ``needs_proof``: an answer, or a reviewer's fix, is refused until a proof of exactly that
    content holds. ``prove`` runs it through ``sandbox`` (the sandbox app's runner, passed in so
    that the kind never imports it: ``sandbox.run(script=, app=, tests=, logs=, seconds=)``
    returns how the run ended) and returns a :class:`ProofReport`. It is called by the sandbox
    worker only, never in a web request.
``takes_audits`` and ``audit(result, *, schema, data, attempt, sandbox)``
    A proven kind whose accepted tasks can be audited: someone else tries the task themselves
    (``attempt``, a script run on a fresh copy of the starting state) and the task's own
    verifier judges it in ``sandbox``. Returns a :class:`ProofRunReport` whose ``passed`` says
    whether the verifier passed the attempt (``status`` ``stopped`` when it could not judge).
    ``rubric_claims(result)`` and ``grade_claims(result, *, grades)``: the claims a person
    grades on an attempt (``[{"claim", "points"}]``), and the reward of one grading (a list of
    met / not met, one per claim), from 0 to 1; errors keyed ``grades.<i>``.
``lease_renewal_seconds``
    How often the work screen renews the lease while the editor is open (long authoring work);
    ``None``: only saving a draft renews it.

Pay that depends on the answer (optional):

``pay_level_name``, ``pay_levels(schema=)`` and ``pay_level(result, schema=)``
    A kind whose answers come in levels worth different pay (an RL environment's difficulty)
    names the levels (``"difficulty"``), lists them for a schema (``["easy", "medium",
    "hard"]``) and says the level of one answer (``None``: none of them). The pay app offers a
    rate per level and pays each answer at its level's rate, never asking which kind it is.
"""

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django.http import QueryDict

    from kinds.formats import ExportFormat


@dataclass(frozen=True)
class Consensus:
    result: dict
    confidence: float


@dataclass(frozen=True)
class EditorSpec:
    template: str
    module: str


@dataclass(frozen=True)
class ImportFormat:
    """A format a kind reads on import (``?format=<name>``), with its name in words."""

    name: str
    label: str


@dataclass(frozen=True)
class AnswerFileFormat:
    """A file of answers for tasks a project already has that a kind reads: its ``name``
    ("COCO"), what it is in words ("a COCO file of boxes") and what its answers are ("boxes")."""

    name: str
    words: str
    holds: str


@dataclass(frozen=True)
class AnswerFile:
    """A file of answers as its kind read it: the answer (in the kind's result shape, unchecked)
    for each file name it names, and where in the file each name is (``images.3 (a.jpg)``)."""

    format: str
    kind: str
    results: dict[str, dict]
    where: dict[str, str]


class AnswerFileRefused(ValueError):
    """A file of answers that cannot be read: its problems as ``(where, field, message)``."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__("; ".join(message for _, _, message in problems))
        self.problems = problems


@dataclass(frozen=True)
class PositionOutcome:
    """One answer seen from the order it was shown in: ``first_won`` (``None`` for a tie),
    ``tie``, ``ties_possible`` (the question allows a tie at all) and ``expected``, the chance
    that the first shown wins if position does not matter (½ for a pair, 1/n for n candidates)."""

    first_won: bool | None
    tie: bool
    expected: float
    ties_possible: bool


@dataclass(frozen=True)
class QualityBar:
    """One quality setting: its type, its allowed range, a short label and the words on the form.

    The bars every project has are in ``labelhub.quality_bars``; a kind adds its own.
    """

    name: str
    label: str
    kind: type  # int or float
    low: float
    high: float
    default: float
    help: str
    step: str = "any"


@dataclass(frozen=True)
class SchemaBuilder:
    """The settings page's form for a kind's schema: a template partial included inside the
    schema form (its context holds ``builder``, the dict of :meth:`TaskKind.schema_form`, and
    ``schema``), the section's heading and the words on its save button."""

    template: str
    heading: str
    save_label: str


@dataclass
class BuilderRow:
    """One repeated row of a builder (a label, a criterion) with its own errors."""

    values: dict
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BuilderForm:
    """What a builder template shows: ``context`` (rows and choices) and the error paths that
    are shown beside a row (``used``); the page lists the other errors above the form."""

    context: dict
    used: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ReviewViews:
    """What the review partial needs: ``shared`` (e.g. the image size) and one dict per answer,
    in the order of the answers."""

    shared: dict
    answers: list[dict]


@dataclass(frozen=True)
class ModelFigure:
    """One figure of what a model saved on the backends page: the key of a prediction's measure
    (and of its version's ``saved`` means), the words shown before it, a test id for its value;
    ``on_gold`` also gives the mean over gold references alone, as ``gold_<key>``."""

    key: str
    label: str
    testid: str = ""
    on_gold: bool = False


@dataclass(frozen=True)
class LiveLimits:
    """What a conversation talked live with a model may hold: ``messages`` in all, ``text``
    characters in one message (the kind's own limits on imported data)."""

    messages: int
    text: int


@dataclass(frozen=True)
class ProofRunReport:
    """One run of a proof: which (``solution``, ``wrong_attempt``, ``repeat``), the reward the
    verifier gave, whether the run did what it must, what it printed (capped), its time, its
    ``status`` (``passed``, ``failed``, ``stopped``) and the reason in words; ``details`` holds
    what the kind wants to show (the state checks one by one, the files the run changed)."""

    run: str
    reward: float | None
    passed: bool
    output: str
    seconds: float
    status: str
    reason: str = ""
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ProofReport:
    runs: list[ProofRunReport]

    @property
    def holds(self) -> bool:
        return bool(self.runs) and all(run.passed for run in self.runs)

    @property
    def reasons(self) -> list[str]:
        return [run.reason for run in self.runs if not run.passed and run.reason]


@dataclass(frozen=True)
class AlphaQuestion:
    """A question answered on many tasks, for Krippendorff's alpha: one unit per task (or task
    and turn), the values its annotators gave (``None``: no answer)."""

    name: str
    units: list[list]
    level: str = "nominal"


def rows_with_errors(
    items: list[dict], *, prefix: str, fields: Iterable[str], errors: dict[str, list[str]]
) -> tuple[list[BuilderRow], set[str]]:
    """Builder rows from schema items, each with the errors of ``prefix.i`` and of its fields;
    also the paths so shown."""
    rows, used = [], set()
    for i, values in enumerate(items):
        row_errors = []
        for path in (f"{prefix}.{i}", *(f"{prefix}.{i}.{name}" for name in fields)):
            row_errors += errors.get(path, [])
            used.add(path)
        rows.append(BuilderRow(values=values, errors=row_errors))
    return rows, used


def is_number(value: object) -> bool:
    """A JSON number (not a boolean, not NaN)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def int_or_text(value: str | None) -> int | str | None:
    """A posted whole number as an int; anything else as it was typed (the kind refuses it)."""
    value = (value or "").strip()
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return value


def number_or_text(value: str | None) -> float | int | str:
    if value is None:
        return ""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number == int(number) else number


def edit_rows(items: list, *, action: str, noun: str, new: object) -> list:
    """The list after a builder button: ``add-<noun>`` appends ``new``, ``remove-<noun>-<i>``
    drops row ``i``; other actions leave it as it is."""
    items = list(items)
    if action == f"add-{noun}":
        items.append(new)
    elif action.startswith(f"remove-{noun}-"):
        index = action.removeprefix(f"remove-{noun}-")
        if index.isdecimal() and 0 <= int(index) < len(items):
            items.pop(int(index))
    return items


class TaskKind:
    """Base class of a task kind; see the module docstring for the contract."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    editor: ClassVar[EditorSpec]
    media_fields: ClassVar[dict[str, str]] = {}
    quality_bars: ClassVar[tuple[QualityBar, ...]] = ()
    schema_builder: ClassVar[SchemaBuilder | None] = None
    review_template: ClassVar[str | None] = None
    has_alpha: ClassVar[bool] = False
    has_parts: ClassVar[bool] = False
    has_gold_parts: ClassVar[bool] = False
    has_agreement_shares: ClassVar[bool] = False
    context_template: ClassVar[str | None] = None
    model_figures: ClassVar[tuple[ModelFigure, ...]] = (ModelFigure("agreement", "agreement"),)
    live_mode: ClassVar[LiveLimits | None] = None
    answer_file: ClassVar[AnswerFileFormat | None] = None
    thumbnail_field: ClassVar[str | None] = None
    needs_proof: ClassVar[bool] = False
    lease_renewal_seconds: ClassVar[int | None] = None
    shows_candidates: ClassVar[bool] = False
    takes_audits: ClassVar[bool] = False
    pay_level_name: ClassVar[str] = ""

    def default_schema(self) -> dict:
        raise NotImplementedError

    def clean_schema(self, schema: dict) -> dict:
        raise NotImplementedError

    def clean_data(self, data: dict, *, schema: dict) -> dict:
        raise NotImplementedError

    def clean_result(self, result: dict, *, schema: dict, data: dict) -> dict:
        raise NotImplementedError

    def answer_data(self, *, data: dict, result: object) -> dict:
        return data

    def import_formats(self) -> "tuple[ImportFormat, ...]":
        return ()

    def read_answer_file(self, value: object, *, name: str) -> AnswerFile | None:
        """A JSON file's content as a file of answers for existing tasks (``answer_file``);
        ``None``: it is not one (the default: the kind reads none)."""
        return None

    def import_data(self, data: object, *, format: str = "") -> object:
        """One imported row's data in the kind's own shape (unchecked: ``clean_data`` checks)."""
        if format:
            raise ValidationError({"format": [f"A {self.label} project reads no other format."]})
        return data

    def shows_images(self, data: dict) -> bool:
        """Whether the screen shows this task as an image (blurred while its content is
        sensitive); otherwise its text is what sits behind the warning."""
        return any(
            media == "image" and isinstance(data, dict) and data.get(field)
            for field, media in self.media_fields.items()
        )

    def score(self, result: dict, gold: dict, *, schema: dict, quality: dict) -> float:
        raise NotImplementedError

    def agreement(self, results: list[dict], *, schema: dict, quality: dict) -> float:
        raise NotImplementedError

    def consolidate(
        self,
        results: list[dict],
        *,
        schema: dict,
        quality: dict,
        weights: list[float] | None = None,
        data: dict | None = None,
    ) -> Consensus:
        raise NotImplementedError

    # --- the screens around the kind ----------------------------------------------------------

    def schema_from_form(self, post: "QueryDict") -> dict:
        """The schema the builder's posted fields describe (only called with a builder)."""
        raise NotImplementedError

    def schema_form(self, *, schema: dict, errors: dict[str, list[str]]) -> BuilderForm:
        return BuilderForm(context={})

    def schema_form_edit(self, *, schema: dict, action: str) -> dict:
        """The schema after an add/remove button of the builder (nothing is saved)."""
        return schema

    def import_words(self) -> str:
        """The files the import form takes for this kind, in words."""
        words = [
            "JSON (a list of tasks, or one)",
            "JSONL",
            "CSV or TSV (one task per row)",
            "a zip",
        ]
        words += [f"{f.label} files" for f in self.import_formats()]
        media = sorted(set(self.media_fields.values()))
        if media:
            words.append(" or ".join(f"{m} files" for m in media) + " (one task each)")
        if self.answer_file is not None:
            words.append(f"{self.answer_file.words} for existing tasks")
        return ", ".join(words[:-1]) + " or " + words[-1]

    def for_contributor(self, data: dict) -> dict:
        """The data as contributors see it (the default: all of it)."""
        return data

    def candidate_ids(self, data: dict) -> list[str]:
        """The ids of the candidates shown side by side, in stored order (none by default)."""
        return []

    def in_shown_order(self, data: dict, order: list[str]) -> dict:
        """The data with its candidates in ``order`` (ids); the default changes nothing."""
        return data

    def position_outcome(
        self, result: dict, *, shown_order: list[str], schema: dict
    ) -> PositionOutcome | None:
        """How the first candidate shown fared in this answer; ``None``: not applicable."""
        return None

    def summary(self, data: dict) -> str:
        """A task's data in one line for the data manager (no more than ~120 characters).
        The default names the data's keys and the first text found in it."""
        if not isinstance(data, dict):
            return ""
        for value in data.values():
            if isinstance(value, str) and value.strip():
                return one_line(value)
        return ", ".join(sorted(data))[:120]

    def export_formats(self) -> "tuple[ExportFormat, ...]":
        return ()

    def review_summary(self, result: dict, *, schema: dict) -> str:
        """An answer in a few words for the review screen ("b > a > c"); "" shows the JSON."""
        return ""

    def review_views(
        self,
        *,
        results: list[dict],
        proposal: dict | None,
        data: dict,
        media_meta: dict,
        schema: dict,
    ) -> ReviewViews:
        return ReviewViews(shared={}, answers=[{} for _ in results])

    def alpha_questions(
        self, tasks: list[tuple[dict, list[dict]]], *, schema: dict
    ) -> list[AlphaQuestion]:
        """Units for alpha from ``(task data, answers)`` of recent multi-answer tasks."""
        return []

    def disagreement(self, results: list[dict], *, schema: dict) -> str:
        """Why these answers must go to a reviewer whatever they agree on; "" when they need not."""
        return ""

    def measure_prediction(
        self, result: dict, reference: dict, *, schema: dict, quality: dict
    ) -> dict[str, float | None]:
        """The :attr:`model_figures` of one prediction against its reference, rounded to 4
        places; by default the agreement of the two."""
        agreement = self.agreement([result, reference], schema=schema, quality=quality)
        return {"agreement": round(float(agreement), 4)}

    def prove(self, result: dict, *, schema: dict, data: dict, sandbox: object) -> ProofReport:
        """Run the answer's proof in ``sandbox`` (only kinds with ``needs_proof``)."""
        raise NotImplementedError

    def audit(
        self, result: dict, *, schema: dict, data: dict, attempt: str, sandbox: object
    ) -> ProofRunReport:
        """Judge someone's own attempt at an accepted task with its verifier (``takes_audits``)."""
        raise NotImplementedError

    def rubric_claims(self, result: dict) -> list[dict]:
        """The claims graded by people on an audit attempt; none by default."""
        return []

    def grade_claims(self, result: dict, *, grades: object) -> float:
        """The reward of one grading of :meth:`rubric_claims` (``takes_audits`` kinds)."""
        raise NotImplementedError

    def pay_levels(self, *, schema: dict) -> list[str]:
        """The levels a project of this schema may pay at different rates; none by default."""
        return []

    def pay_level(self, result: object, *, schema: dict) -> str | None:
        """The level of one answer (one of :meth:`pay_levels`), or ``None``."""
        return None

    def gold_parts(self, result: dict, gold: dict, *, schema: dict) -> dict[str, float]:
        """How one answer matches gold, part by part (each 0..1, named in words); none by
        default."""
        return {}

    def agreement_shares(self, results: list[dict], *, schema: dict) -> dict[str, float]:
        """Shares of pairs of one task's answers that agree on a question (named in words); none
        by default."""
        return {}

    def agreement_parts(self, results: list[dict], *, schema: dict) -> dict[str, list[dict]]:
        """For each part some answer of one task has (a box label), every answer cut down to
        that part (an answer without it gives an empty one), in the order given."""
        return {}


def without_models(items: object) -> object:
    """A list of objects (messages, responses, candidates) without their ``model`` names."""
    if not isinstance(items, list):
        return items
    return [
        {k: v for k, v in item.items() if k != "model"} if isinstance(item, dict) else item
        for item in items
    ]


SHUFFLE_BAR = QualityBar(
    "shuffle_candidates",
    "Candidates in an order of each person's own",
    int,
    0,
    1,
    1,
    "1 (the default) shows every contributor the candidates in an order of their own, the same "
    "each time they open the task, so that no response gains from being shown first; the order "
    "shown is kept with each answer for the dashboard's position-bias report. 0 shows them in "
    "the order they were imported (e.g. when a fixed baseline must come first).",
    step="1",
)


def shuffled(ids: list[str], *, seed: str) -> list[str]:
    """``ids`` in an order that depends only on ``seed``: the same seed, the same order (a
    reload shows what was shown before); different seeds spread over every order alike."""
    digest = hashlib.sha256(seed.encode()).digest()
    order = list(ids)
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)  # noqa: S311 (not secret)
    return order


def shown_order(
    kind: "TaskKind", data: dict, *, quality: dict, task_id: int, contributor_id: int
) -> list[str]:
    """The order one contributor is shown a task's candidates in: their own (seeded by task and
    person) while the project's ``shuffle_candidates`` bar is on, else the stored one; ``[]``
    for a task with nothing to compare. The server derives it, never takes it from the client."""
    ids = kind.candidate_ids(data) if isinstance(data, dict) else []
    if len(ids) < 2:
        return []
    if not quality.get("shuffle_candidates", 1):
        return list(ids)
    return shuffled(ids, seed=f"labelhub-order:{task_id}:{contributor_id}")


def in_order(items: list, order: list[str]) -> list:
    """Candidates (objects with an ``id``) in ``order``; any the order does not name stay after
    it, as they were (a stale order never hides a candidate)."""
    by_id = {item.get("id"): item for item in items if isinstance(item, dict)}
    first = [by_id[i] for i in order if i in by_id]
    return first + [item for item in items if item not in first]


def one_line(text: str, *, limit: int = 120) -> str:
    """``text`` on one line, cut at a word before ``limit`` characters with an ellipsis."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0] or flat[: limit - 1]
    return cut + "…"


def installed_paths() -> list[str]:
    """The dotted paths of the kind classes the installed apps declare (``AppConfig.task_kind``),
    in the order of ``INSTALLED_APPS``."""
    return [
        config.task_kind
        for config in apps.get_app_configs()
        if isinstance(getattr(config, "task_kind", None), str)
    ]


@cache
def registry() -> dict[str, TaskKind]:
    """Every kind by name: the installed apps' kinds, or ``settings.LABELHUB_TASK_KINDS`` when set.

    Cached; a test that changes the setting calls ``registry.cache_clear()``."""
    paths = getattr(settings, "LABELHUB_TASK_KINDS", None)
    if paths is None:
        paths = installed_paths()
    kinds = [import_string(path)() for path in paths]
    names = [kind.name for kind in kinds]
    if len(set(names)) != len(names):
        raise ImproperlyConfigured(f"Two task kinds share a name: {sorted(names)}.")
    return {kind.name: kind for kind in kinds}


def get(name: str) -> TaskKind:
    try:
        return registry()[name]
    except KeyError:
        raise ValidationError({"kind": [f"Unknown task kind {name!r}."]}) from None


def find(name: str) -> TaskKind | None:
    """The kind of that name, or ``None`` (a project whose kind is no longer installed)."""
    return registry().get(name)


def choices() -> list[tuple[str, str]]:
    """Model and form choices; a callable so that migrations do not freeze the list of kinds."""
    return [(kind.name, kind.label) for kind in registry().values()]


def model_figures() -> list[ModelFigure]:
    """The figures of every installed kind, each key once, in the kinds' order: the keys of a
    model version's ``saved`` means (``backends.measure``)."""
    figures: dict[str, ModelFigure] = {}
    for kind in registry().values():
        for figure in kind.model_figures:
            figures.setdefault(figure.key, figure)
    return list(figures.values())


def answer_file_read(value: object, *, name: str) -> AnswerFile | None:
    """A JSON file's content as the file of answers of the first installed kind that reads it
    (``TaskKind.read_answer_file``); ``None``: no kind's. Raises :class:`AnswerFileRefused`."""
    for kind in registry().values():
        answers = kind.read_answer_file(value, name=name)
        if answers is not None:
            return answers
    return None


class Errors:
    """Collects field errors by path, then raises them together as one ValidationError."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.by_path.setdefault(path or "__all__", []).append(message)

    def raise_if_any(self) -> None:
        if self.by_path:
            raise ValidationError(self.by_path)

    def __bool__(self) -> bool:
        return bool(self.by_path)


def object_errors(value: object, *, path: str, message: str) -> Errors:
    """A fresh :class:`Errors` for validating ``value``; raises ``message`` at ``path`` at once
    when ``value`` is not a JSON object (nothing else can be checked then)."""
    errors = Errors()
    if not isinstance(value, dict):
        errors.add(path, message)
        errors.raise_if_any()
    return errors
