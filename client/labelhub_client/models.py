"""The API's JSON shapes as dataclasses.

Each names the OpenAPI component it mirrors (``SCHEMA``); the client's test suite reads the
server's schema (``/api/v1/schema/``) and fails when a field here is missing there, has another
type, or may be null there but not here — so the client cannot drift from the server.
Keys the server adds later land in ``extra`` instead of breaking old clients.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar

T = TypeVar("T", bound="Model")


def _is_datetime(hint: Any) -> bool:
    return hint is datetime or datetime in typing.get_args(hint)


def parse_datetime(value: Any) -> Any:
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


@functools.cache
def _layout(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    """A shape's field names and which of them are times (worked out once per class: a listing
    of a million tasks makes a million of them)."""
    hints = typing.get_type_hints(cls)
    names = frozenset(f.name for f in dataclasses.fields(cls)) - {"extra"}
    return names, frozenset(name for name in names if _is_datetime(hints[name]))


@dataclass
class Model:
    """Base of the API's shapes: ``from_json`` keeps unknown keys in ``extra``."""

    SCHEMA: ClassVar[str] = ""
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls: type[T], data: dict[str, Any]) -> T:
        names, dates = _layout(cls)
        given, extra = {}, {}
        for key, value in data.items():
            if key in names:
                given[key] = parse_datetime(value) if key in dates else value
            else:
                extra[key] = value
        return cls(**given, extra=extra)

    @classmethod
    def schema_fields(cls) -> dict[str, Any]:
        """This shape's fields and their types, as checked against the OpenAPI schema."""
        hints = typing.get_type_hints(cls)
        return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name != "extra"}


@dataclass
class ProjectInfo(Model):
    """A project as ``GET /api/v1/projects/{id}/`` gives it."""

    SCHEMA: ClassVar[str] = "ProjectOutput"
    id: int = 0
    organization: str = ""
    name: str = ""
    kind: str = ""
    schema: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] | None = None
    instructions: str = ""
    content_categories: list[str] = field(default_factory=list)
    role: str | None = None
    roles: list[str] = field(default_factory=list)
    archived_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class Task(Model):
    """A task of a listing; with ``fields=…`` only the keys asked for are set."""

    SCHEMA: ClassVar[str] = "TaskManagerListOutput"
    id: int = 0
    project: int | None = None
    external_id: str | None = None
    data: dict[str, Any] | None = None
    predictions: list[Any] | None = None
    status: str | None = None
    priority: int | None = None
    content: list[str] | None = None
    overlap: int | None = None
    answer_count: int | None = None
    is_gold: bool | None = None
    gold: dict[str, Any] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class Result(Model):
    """One accepted result of the incremental feed."""

    SCHEMA: ClassVar[str] = "ResultFeedItem"
    task: int = 0
    external_id: str | None = None
    result: dict[str, Any] | None = None
    accepted_at: datetime | None = None
    data: dict[str, Any] | None = None


@dataclass
class ImportStatus(Model):
    """One server-side import job (``GET /api/v1/imports/{id}/``)."""

    SCHEMA: ClassVar[str] = "ImportJobOutput"
    id: int = 0
    project: int = 0
    status: str = ""
    original_name: str = ""
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


@dataclass
class ExportStatus(Model):
    """One export job (``GET /api/v1/exports/{id}/``)."""

    SCHEMA: ClassVar[str] = "ExportJobOutput"
    id: int = 0
    project: int = 0
    format: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    total: int = 0
    processed: int = 0
    filename: str = ""
    content_type: str = ""
    size: int | None = None
    error: str = ""
    download_url: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


@dataclass
class Assignment(Model):
    """A lease on a task: who works on it until when, and the draft saved so far."""

    SCHEMA: ClassVar[str] = "Assignment"
    id: int = 0
    status: str = ""
    expires_at: datetime | None = None
    draft: dict[str, Any] | None = None
    draft_saved_at: datetime | None = None
    version: int = 0


@dataclass
class QueueTask(Model):
    """What a labeler sees of a task handed out by the queue."""

    SCHEMA: ClassVar[str] = "QueueTask"
    id: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    predictions: list[Any] = field(default_factory=list)
    content: list[str] = field(default_factory=list)


@dataclass
class Submission(Model):
    SCHEMA: ClassVar[str] = "Submission"
    annotation: int = 0
    assignment: int = 0
    created_at: datetime | None = None
    active_seconds: int = 0


@dataclass
class Member(Model):
    SCHEMA: ClassVar[str] = "MemberOutput"
    id: int = 0
    username: str = ""
    role: str = ""
    added_at: datetime | None = None


ALL_MODELS: tuple[type[Model], ...] = (
    ProjectInfo,
    Task,
    Result,
    ImportStatus,
    ExportStatus,
    Assignment,
    QueueTask,
    Submission,
    Member,
)
