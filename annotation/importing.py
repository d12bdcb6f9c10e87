"""Reading task imports: every accepted format turned into the same rows, then checked.

Formats (chosen by the file's name, checked by its content):

- ``.json`` (and ``.traj``, SWE-agent's trajectory files): a list of tasks, a COCO file (an object
  with ``images`` and ``annotations``), or one task as an object (a trace file that holds one run:
  an ATIF trajectory, an OTLP JSON export, a ``.traj``);
- ``.jsonl`` / ``.ndjson``: one task per line;
- ``.csv`` / ``.tsv``: one task per row. Columns ``external_id``, ``gold``, ``predictions``,
  ``callback_url``, ``priority`` and ``content`` fill those fields (``gold``/``predictions`` as
  JSON text, ``content`` as names separated by commas or a JSON list);
  every other column is a key of ``data``, written plain (``image``) or with its prefix
  (``data.image``). Dotted paths build nested values (``responses.0.text``), and a cell that starts
  with ``[`` or ``{`` is read as JSON. Empty cells are left out;
- ``.zip``: either one JSON/JSONL/CSV file (whose media columns may name files in the same zip),
  or images / audio files, one task each;
- image or audio files: one task each, the file name becoming the task's ``external_id``.

A task in JSON is either ``{"data": {...}, "external_id"?, "gold"?, "predictions"?,
"callback_url"?, "priority"?, "content"?}`` or, Label Studio style, the bare ``data`` object.
``content`` names the task's content categories (``["violence", "self-harm"]``, see
:mod:`labelhub.content`); a name the organization does not have refuses the import.

Nothing here writes to the database: :func:`row_clean` checks one row against the project's task
kind and returns :class:`Problem` s that name the row and the field ("row 7, data.image: …").
A ``callback_url`` is held to the webhooks' own rule (:func:`annotation.webhooks.destination_check`)
here, so a URL that could never be delivered to is refused now rather than failing later; the rows
of one parse share one DNS cache.
"""

import csv
import io
import json
import os
import posixpath
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

import kinds
from annotation.media import AudioInfo, ImageInfo, MediaError, read_audio, read_image
from annotation.webhooks import DeliveryRefused, HostLookups, destination_check
from kinds import AnswerFile, AnswerFileRefused, TaskKind
from labelhub.content import BUILT_IN, Category, flags_from
from labelhub.unstorable import unstorable_in

TASK_KEYS = {"data", "external_id", "gold", "predictions", "callback_url", "priority", "content"}
EXTRA_COLUMNS = TASK_KEYS - {"data"}
DATA_EXTENSIONS = {".json", ".traj", ".jsonl", ".ndjson", ".csv", ".tsv"}
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}
AUDIO_EXTENSIONS = {".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac"}
MAX_ZIP_MEMBERS = 50_000
MAX_ZIP_BYTES = 4 * 1024**3  # uncompressed: refuses zip bombs
MAX_PROBLEMS = 100
EXTERNAL_ID_MAX = 200
PRIORITY_RANGE = (-1_000_000, 1_000_000)
PENDING_MEDIA = "/pending-upload/"
_url = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import: where (row, line, item or file), which field, and why."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.where}, {self.field}: {self.message}"
            if self.field
            else (f"{self.where}: {self.message}")
        )

    def as_dict(self) -> dict:
        return {"where": self.where, "field": self.field, "message": self.message}


class ImportRejected(Exception):
    """The import was refused as a whole; nothing was written."""

    def __init__(self, problems: list[Problem], *, total_problems: int | None = None) -> None:
        self.problems = problems[:MAX_PROBLEMS]
        self.total_problems = total_problems if total_problems is not None else len(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems[:5]))

    @property
    def messages(self) -> list[str]:
        lines = [str(problem) for problem in self.problems]
        if self.total_problems > len(self.problems):
            lines.append(f"… and {self.total_problems - len(self.problems)} more problems.")
        return lines


@dataclass
class MediaFile:
    """An uploaded image or audio file, opened only when it is read."""

    name: str
    open: Callable[[], IO[bytes]]


@dataclass
class TaskRow:
    """One task as read from the input, not yet checked."""

    where: str
    data: Any
    given: frozenset[str] = frozenset()  # which of EXTRA_COLUMNS the input set
    external_id: Any = ""
    gold: Any = None
    predictions: Any = None
    callback_url: Any = ""
    priority: Any = 0
    content: Any = None
    media: dict[str, MediaFile] = field(default_factory=dict)
    # Shared by the rows of one parse: each callback host is resolved once per import.
    callback_hosts: HostLookups = field(default_factory=dict, repr=False, compare=False)


@dataclass
class CleanTask:
    """One checked task, ready to write. ``media`` holds what was read from an uploaded file."""

    where: str
    data: dict
    given: frozenset[str]
    external_id: str
    gold: dict | None
    predictions: list
    callback_url: str
    priority: int
    content_flags: int = 0
    media_field: str = ""
    media_file: MediaFile | None = None
    media_info: ImageInfo | AudioInfo | None = None
    prediction_score: float | None = None


@dataclass
class Parsed:
    """An import's rows, or a file of answers for tasks the project already has (a COCO file of
    boxes, read by its kind: ``TaskKind.read_answer_file``)."""

    rows: list[TaskRow] = field(default_factory=list)
    answers: AnswerFile | None = None


def media_field_for(*, kind: TaskKind, schema: dict) -> str:
    """The key of ``data`` an uploaded file goes to for this project."""
    if "media" in schema and schema["media"] in kind.media_fields:
        return schema["media"]
    if not kind.media_fields:
        return ""
    return next(iter(kind.media_fields))


# --- parsing ---------------------------------------------------------------------------------


def rows_from_items(items: list, *, label: str, first: int = 1) -> list[TaskRow]:
    hosts: HostLookups = {}
    return [
        row_from_item(item, where=f"{label} {first + i}", callback_hosts=hosts)
        for i, item in enumerate(items)
    ]


def row_from_item(item: Any, *, where: str, callback_hosts: HostLookups | None = None) -> TaskRow:
    """A task from a JSON value: ``{"data": …, …}`` or the bare data object."""
    hosts = callback_hosts if callback_hosts is not None else {}
    fields_only = isinstance(item, dict) and "data" not in item and set(item) <= TASK_KEYS
    if fields_only and "external_id" in item:
        # Task fields without data ({"external_id", "gold"}): an update of an existing task that
        # keeps its data (row_clean refuses it for an external id the project does not have).
        given = frozenset(set(item) & EXTRA_COLUMNS)
        row = TaskRow(where=where, data=None, given=given, callback_hosts=hosts)
        for key in EXTRA_COLUMNS & set(item):
            setattr(row, key, item[key])
        return row
    if isinstance(item, dict) and isinstance(item.get("data"), dict):
        unknown = set(item) - TASK_KEYS
        row = TaskRow(
            where=where,
            data=item["data"],
            given=frozenset(set(item) & EXTRA_COLUMNS),
            callback_hosts=hosts,
        )
        for key in EXTRA_COLUMNS & set(item):
            setattr(row, key, item[key])
        if unknown:
            row.given = row.given | {f"unknown:{key}" for key in sorted(unknown)}
        return row
    return TaskRow(where=where, data=item, callback_hosts=hosts)


def _parse_json_bytes(content: bytes, *, where: str) -> Any:
    try:
        return json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportRejected([Problem(where, "", "The file is not UTF-8 text.")]) from None
    except json.JSONDecodeError as error:
        raise ImportRejected(
            [Problem(where, "", f"Not valid JSON (line {error.lineno}: {error.msg}).")]
        ) from None
    except RecursionError:
        raise ImportRejected([Problem(where, "", "The JSON is nested too deeply.")]) from None


def parse_json(content: bytes, *, name: str) -> Parsed:
    value = _parse_json_bytes(content, where=f"file {name}")
    try:
        answers = kinds.answer_file_read(value, name=name)
    except AnswerFileRefused as refused:
        raise ImportRejected([Problem(*problem) for problem in refused.problems]) from None
    if answers is not None:
        return Parsed(answers=answers)
    if isinstance(value, dict):
        value = [value]  # one task: {"data": …, …} or its bare data
    if not isinstance(value, list):
        raise ImportRejected(
            [Problem(f"file {name}", "", "Expected a list of tasks, one task, or a COCO file.")]
        )
    return Parsed(rows=rows_from_items(value, label="item"))


def parse_jsonl(content: bytes, *, name: str) -> Parsed:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([Problem(f"file {name}", "", "The file is not UTF-8 text.")]) from None
    rows, problems = [], []
    hosts: HostLookups = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(
                row_from_item(json.loads(line), where=f"line {number}", callback_hosts=hosts)
            )
        except json.JSONDecodeError as error:
            problems.append(Problem(f"line {number}", "", f"Not valid JSON ({error.msg})."))
        except RecursionError:
            problems.append(Problem(f"line {number}", "", "The JSON is nested too deeply."))
    if problems:
        raise ImportRejected(problems)
    return Parsed(rows=rows)


def _cell(value: str) -> Any:
    stripped = value.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except (json.JSONDecodeError, RecursionError):
            return value
    return value


def _put(target: dict, path: list[str], value: Any) -> None:
    """Set ``value`` at a dotted path, creating objects and lists (for digit keys) on the way."""
    node: Any = target
    for i, key in enumerate(path):
        last = i == len(path) - 1
        following_is_index = not last and path[i + 1].isdigit()
        if isinstance(node, list):
            index = int(key)
            while len(node) <= index:
                node.append(None)
            if last:
                node[index] = value
            else:
                if node[index] is None:
                    node[index] = [] if following_is_index else {}
                node = node[index]
        else:
            if last:
                node[key] = value
            else:
                node = node.setdefault(key, [] if following_is_index else {})


def parse_csv(content: bytes, *, name: str) -> Parsed:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([Problem(f"file {name}", "", "The file is not UTF-8 text.")]) from None
    delimiter = "\t" if name.lower().endswith(".tsv") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected([Problem(f"file {name}", "", "The file is empty.")]) from None
    columns = [column.strip() for column in header]
    problems = [
        Problem("row 1", column or f"column {i + 1}", "A column needs a name.")
        for i, column in enumerate(columns)
        if not column
    ]
    if len(set(columns)) != len(columns):
        problems.append(Problem("row 1", "", "Two columns have the same name."))
    if problems:
        raise ImportRejected(problems)
    rows = []
    hosts: HostLookups = {}
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        where = f"row {number}"
        if len(cells) > len(columns):
            problems.append(Problem(where, "", f"{len(cells)} cells for {len(columns)} columns."))
            continue
        row = TaskRow(where=where, data={}, callback_hosts=hosts)
        given = set()
        try:
            for column, cell in zip(columns, cells, strict=False):
                if cell == "":
                    continue
                if column in EXTRA_COLUMNS:
                    json_cell = column in ("gold", "predictions", "content")
                    value = _cell(cell) if json_cell else cell.strip()
                    setattr(row, column, value)
                    given.add(column)
                    continue
                path = column.removeprefix("data.").split(".")
                _put(row.data, path, _cell(cell))
        except (TypeError, ValueError, AttributeError):
            problems.append(Problem(where, "", "The columns' dotted paths do not fit together."))
            continue
        row.given = frozenset(given)
        rows.append(row)
    if problems:
        raise ImportRejected(problems)
    return Parsed(rows=rows)


def _extension(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def _zip_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not posixpath.basename(info.filename).startswith(".")
    ]
    if len(members) > MAX_ZIP_MEMBERS:
        raise ImportRejected([Problem("zip", "", f"At most {MAX_ZIP_MEMBERS:,} files in one zip.")])
    if sum(info.file_size for info in members) > MAX_ZIP_BYTES:
        raise ImportRejected([Problem("zip", "", "The zip unpacks to more than 4 GB.")])
    return members


def parse_zip(file: IO[bytes], *, name: str, media_field: str) -> Parsed:
    try:
        archive = zipfile.ZipFile(file)
        members = _zip_members(archive)
    except zipfile.BadZipFile:
        raise ImportRejected([Problem(f"file {name}", "", "Not a readable zip file.")]) from None

    def opener(info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
        return lambda: _spooled(archive.open(info))

    data_files = [info for info in members if _extension(info.filename) in DATA_EXTENSIONS]
    media = [
        info for info in members if _extension(info.filename) in IMAGE_EXTENSIONS | AUDIO_EXTENSIONS
    ]
    if len(data_files) > 1:
        names = ", ".join(info.filename for info in data_files[:5])
        raise ImportRejected(
            [Problem(f"file {name}", "", f"The zip holds several task files ({names}): one only.")]
        )
    if data_files:
        info = data_files[0]
        parsed = parse_content(archive.read(info), name=info.filename, media_field=media_field)
        by_name = {m.filename: m for m in media} | {
            posixpath.basename(m.filename): m for m in media
        }
        for row in parsed.rows:
            value = row.data.get(media_field) if isinstance(row.data, dict) else None
            if isinstance(value, str) and value in by_name:
                row.media[media_field] = MediaFile(name=value, open=opener(by_name[value]))
                del row.data[media_field]
        return parsed
    if not media:
        raise ImportRejected(
            [Problem(f"file {name}", "", "The zip holds no task file, image or audio.")]
        )
    return Parsed(
        rows=[
            media_row(name=info.filename, open=opener(info), media_field=media_field)
            for info in sorted(media, key=lambda info: info.filename)
        ]
    )


def media_row(*, name: str, open: Callable[[], IO[bytes]], media_field: str) -> TaskRow:
    """One task from one image or audio file; its name (without folders) is its external_id."""
    base = posixpath.basename(name.replace("\\", "/"))
    return TaskRow(
        where=f"file {name}",
        data={},
        external_id=base,
        given=frozenset({"external_id"}),
        media={media_field: MediaFile(name=base, open=open)},
    )


def parse_content(content: bytes, *, name: str, media_field: str) -> Parsed:
    extension = _extension(name)
    if extension in (".json", ".traj"):
        return parse_json(content, name=name)
    if extension in (".jsonl", ".ndjson"):
        return parse_jsonl(content, name=name)
    if extension in (".csv", ".tsv"):
        return parse_csv(content, name=name)
    if extension == ".zip":
        return parse_zip(io.BytesIO(content), name=name, media_field=media_field)
    if extension in IMAGE_EXTENSIONS | AUDIO_EXTENSIONS:
        return Parsed(
            rows=[media_row(name=name, open=lambda: io.BytesIO(content), media_field=media_field)]
        )
    raise ImportRejected(
        [
            Problem(
                f"file {name}",
                "",
                "LabelHub imports JSON, JSONL, CSV, TSV, zip, images (JPEG, PNG, GIF, WebP, BMP, "
                "TIFF) and audio (WAV, MP3, OGG, FLAC).",
            )
        ]
    )


SPOOL_IN_MEMORY = 5 * 1024 * 1024  # a media file bigger than this is read from a temporary file


def _spooled(source: IO[bytes]) -> IO[bytes]:
    """A seekable copy of a stream (Pillow and mutagen seek), on disk past a few megabytes."""
    copy = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    with source:
        shutil.copyfileobj(source, copy, 1024 * 1024)
    copy.seek(0)
    return copy


class _Borrowed:
    """The upload itself, read again from its start; leaving a ``with`` block leaves it open."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        file.seek(0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def __enter__(self) -> "_Borrowed":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None


def parse_file(file: IO[bytes], *, name: str, media_field: str) -> Parsed:
    """Read an uploaded file: zips member by member, an image or audio file from the upload
    itself (so neither is ever whole in memory); task files (JSON, CSV) are parsed whole."""
    extension = _extension(name)
    if extension == ".zip":
        return parse_zip(file, name=name, media_field=media_field)
    if extension in IMAGE_EXTENSIONS | AUDIO_EXTENSIONS:
        rows = [media_row(name=name, open=lambda: _Borrowed(file), media_field=media_field)]
        return Parsed(rows=rows)
    return parse_content(file.read(), name=name, media_field=media_field)


# --- checking --------------------------------------------------------------------------------


def _paths(error: ValidationError, *, prefix_from: str, prefix_to: str) -> Iterator[tuple]:
    for path, messages in error.message_dict.items():
        if path == "__all__":
            path = prefix_to
        elif path == prefix_from or path.startswith(prefix_from + "."):
            path = prefix_to + path[len(prefix_from) :]
        for message in messages:
            yield path, message


KNOWN_FROM_MEDIA = ("width", "height")  # measured from the image: kept while it stays the same


def _with_what_the_task_knew(data: Any, *, known: dict, media_field: str) -> Any:
    """The row's data for an existing task: its own data when the row gives none, else the row's
    plus the image size the task already knew when the row points at the same image without one.

    Re-importing an external id to add gold or predictions must not lose what the task measured.
    """
    if data is None or data == {}:
        return dict(known)
    if not isinstance(data, dict) or data.get(media_field) != known.get(media_field):
        return data
    if any(key in data for key in KNOWN_FROM_MEDIA):
        return data
    return {**data, **{key: known[key] for key in KNOWN_FROM_MEDIA if key in known}}


def row_clean(
    row: TaskRow,
    *,
    kind: TaskKind,
    schema: dict,
    media_field: str,
    known_data: dict | None = None,
    categories: list[Category] | None = None,
    import_format: str = "",
) -> tuple[CleanTask | None, list[Problem]]:
    """Check one row against the project's kind; read and check its uploaded file, if any.

    The row's data is first converted by the kind from the format named on the import
    (``import_format``), or from the one it detects (``kind.import_data``).

    ``known_data`` is the data of the task the row's external id updates, if it exists;
    ``categories`` the content categories of the project's organization (the built-ins if not
    given). The steps, each adding the problems it finds: the row's own fields (external id,
    priority, content, callback URL), its data and media (:func:`_row_data`), then its gold
    answer and predictions against that data (:func:`_row_answers`).
    """
    problems: list[Problem] = []

    def add(path: str, message: str) -> None:
        problems.append(Problem(row.where, path, message))

    for marker in sorted(key for key in row.given if key.startswith("unknown:")):
        add(marker.removeprefix("unknown:"), "Not a field of a task.")
    for name in ("data", "external_id", "gold", "predictions", "callback_url", "content"):
        found = unstorable_in(getattr(row, name), name)
        if found:  # PostgreSQL would refuse the row (a NUL), or no driver could send it
            add(found[0], f"Contains {found[1]}, which cannot be stored.")
            return None, problems
    external_id = _row_external_id(row.external_id, add)
    priority = _row_priority(row.priority, add)
    content_flags = _row_content(row.content, categories, add)
    callback_url = _row_callback_url(row, add)
    media_file = row.media.get(media_field)
    read = _row_data(
        row,
        kind=kind,
        schema=schema,
        media_field=media_field,
        known_data=known_data,
        import_format=import_format,
        add=add,
    )
    if read is None:
        return None, problems
    data, media_info = read
    gold, predictions = _row_answers(row, kind=kind, schema=schema, data=data, add=add)
    if problems:
        return None, problems
    return (
        CleanTask(
            where=row.where,
            data=data,
            given=row.given,
            external_id=external_id,
            gold=gold,
            predictions=predictions,
            prediction_score=lowest_score(_given_predictions(row)),
            callback_url=callback_url,
            priority=priority,
            content_flags=content_flags,
            media_field=media_field if media_file else "",
            media_file=media_file,
            media_info=media_info,
        ),
        [],
    )


AddProblem = Callable[[str, str], None]


def _row_external_id(external_id: object, add: AddProblem) -> str:
    if isinstance(external_id, int) and not isinstance(external_id, bool):
        external_id = str(external_id)
    if not isinstance(external_id, str):
        add("external_id", "An external id is text.")
        external_id = ""
    external_id = external_id.strip()
    if len(external_id) > EXTERNAL_ID_MAX:
        add("external_id", f"An external id has at most {EXTERNAL_ID_MAX} characters.")
    return external_id


def _row_priority(priority: object, add: AddProblem) -> int:
    if isinstance(priority, str):
        try:
            priority = int(priority.strip())
        except ValueError:
            add("priority", "The priority is a whole number.")
            priority = 0
    if isinstance(priority, bool) or not isinstance(priority, int):
        add("priority", "The priority is a whole number.")
        return 0
    if not PRIORITY_RANGE[0] <= priority <= PRIORITY_RANGE[1]:
        add("priority", "The priority is from -1000000 to 1000000.")
    return priority


def _row_content(content: object, categories: list[Category] | None, add: AddProblem) -> int:
    try:
        return flags_from(
            content, list(BUILT_IN) if categories is None else categories, field="content"
        )
    except ValidationError as error:
        for message in error.message_dict["content"]:
            add("content", message)
        return 0


def _row_callback_url(row: TaskRow, add: AddProblem) -> str:
    callback_url = row.callback_url or ""
    if not isinstance(callback_url, str):
        add("callback_url", "The callback URL is text.")
        return ""
    if len(callback_url) > 2000:
        add("callback_url", "The callback URL has at most 2000 characters.")
    elif callback_url:
        try:
            _url(callback_url)
            destination_check(callback_url, lookups=row.callback_hosts)
        except ValidationError:
            add("callback_url", "The callback URL must be an http(s) URL.")
        except DeliveryRefused as refused:
            add("callback_url", str(refused))
    return callback_url


def _row_data(
    row: TaskRow,
    *,
    kind: TaskKind,
    schema: dict,
    media_field: str,
    known_data: dict | None,
    import_format: str,
    add: AddProblem,
) -> tuple[dict, object] | None:
    """The row's data, converted from ``import_format`` (or the format the kind detects) and
    checked by the kind, with what its uploaded file says (read and checked
    here) and what the task it updates already knew; and the file's media info. ``None`` when
    the data cannot be checked further (its problems are added)."""
    data = row.data
    if known_data is not None and not row.media.get(media_field):
        data = _with_what_the_task_knew(data, known=known_data, media_field=media_field)
    elif data is None:
        add("data", "No task has this external id, so the row needs its data.")
        return None
    media_file, media_info = row.media.get(media_field), None
    if media_file is not None:
        try:
            with media_file.open() as handle:
                reader = read_audio if kind.media_fields.get(media_field) == "audio" else read_image
                media_info = reader(handle)
        except MediaError as error:
            add(f"data.{media_field}", str(error))
            return None
        if not isinstance(data, dict):
            data = {}
        data = {**data, media_field: PENDING_MEDIA}
        if isinstance(media_info, ImageInfo):
            data.setdefault("width", media_info.width)
            data.setdefault("height", media_info.height)
    try:
        data = kind.import_data(data, format=import_format)
        data = kind.clean_data(data, schema=schema)
    except ValidationError as error:
        for path, message in _paths(error, prefix_from="data", prefix_to="data"):
            add(path, message)
        return None
    return data, media_info


def _given_predictions(row: TaskRow) -> list:
    """The row's predictions as a list (one given alone is a list of one; not a list: none)."""
    if isinstance(row.predictions, dict):
        return [row.predictions]
    return row.predictions if isinstance(row.predictions, list) else []


def _row_answers(
    row: TaskRow, *, kind: TaskKind, schema: dict, data: dict, add: AddProblem
) -> tuple[dict | None, list[dict]]:
    """The row's gold answer and predictions, each checked by the kind against the data."""
    gold = row.gold
    if gold is not None:
        try:
            gold = kind.clean_result(gold, schema=schema, data=data)
        except ValidationError as error:
            for path, message in _paths(error, prefix_from="result", prefix_to="gold"):
                add(path, message)
    predictions = _given_predictions(row)
    if not isinstance(row.predictions, list | dict | None):
        add("predictions", "Predictions are a list of results.")
    cleaned = []
    for i, prediction in enumerate(predictions):
        try:
            cleaned.append(kind.clean_result(prediction, schema=schema, data=data))
        except ValidationError as error:
            for path, message in _paths(error, prefix_from="result", prefix_to=f"predictions.{i}"):
                add(path, message)
    return gold, cleaned


def lowest_score(predictions: list) -> float | None:
    """The lowest ``score`` (0..1) the task's predictions carry, as Label Studio's and the model
    backends' predictions do (``{"result": …, "score": 0.42, "model_version": …}``), if any."""
    scores = [
        float(p["score"])
        for p in predictions
        if isinstance(p, dict)
        and isinstance(p.get("score"), int | float)
        and not isinstance(p.get("score"), bool)
        and 0 <= p["score"] <= 1
    ]
    return min(scores) if scores else None
