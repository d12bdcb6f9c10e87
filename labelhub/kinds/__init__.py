"""Task kinds: one plug-in per kind of work, behind one small interface.

Everything kind-specific lives in the kind's module; the rest of LabelHub only talks to a
:class:`TaskKind`. A kind is found by name through ``settings.LABELHUB_TASK_KINDS`` (dotted paths),
so a fourth kind is one new module (plus its template and ES module) and one line of settings.

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
    annotators; none means equal weights. The math lives in ``labelhub/kinds/metrics/``.
``editor``
    What the annotator screen needs: a template name and an ES module path.
``media_fields``
    Keys of ``data`` that may hold media (an uploaded file or a URL), and what media each takes.
``quality_bars``
    The quality settings only this kind reads (the IoU to match boxes, the weight of a ranking's
    criteria), as :class:`QualityBar`: the settings form, the API and validation pick them up.
"""

from dataclasses import dataclass
from functools import cache
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string

DEFAULT_KINDS = [
    "labelhub.kinds.bbox.BoundingBoxKind",
    "labelhub.kinds.ranking.RankingKind",
    "labelhub.kinds.transcription.TranscriptionKind",
]


@dataclass(frozen=True)
class Consensus:
    result: dict
    confidence: float


@dataclass(frozen=True)
class EditorSpec:
    template: str
    module: str


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


class TaskKind:
    """Base class of a task kind; see the module docstring for the contract."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    editor: ClassVar[EditorSpec]
    media_fields: ClassVar[dict[str, str]] = {}
    quality_bars: ClassVar[tuple[QualityBar, ...]] = ()

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


@cache
def registry() -> dict[str, TaskKind]:
    paths = getattr(settings, "LABELHUB_TASK_KINDS", DEFAULT_KINDS)
    kinds = [import_string(path)() for path in paths]
    return {kind.name: kind for kind in kinds}


def get(name: str) -> TaskKind:
    try:
        return registry()[name]
    except KeyError:
        raise ValidationError({"kind": [f"Unknown task kind {name!r}."]}) from None


def choices() -> list[tuple[str, str]]:
    """Model and form choices; a callable so that migrations do not freeze the list of kinds."""
    return [(kind.name, kind.label) for kind in registry().values()]


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
