"""Imports of tasks: checking rows, writing them in bulk (COPY on PostgreSQL), COCO boxes onto
existing tasks, and imports run in the background. Every row validates through the project's task
kind first (:func:`annotation.importing.row_clean`)."""

import json
import os
import posixpath
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import IO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

import kinds
from annotation.events import tasks_imported
from annotation.importing import (
    MAX_PROBLEMS,
    CleanTask,
    ImportRejected,
    Parsed,
    Problem,
    TaskRow,
    media_field_for,
    parse_file,
    row_clean,
)
from annotation.media import ImageInfo
from annotation.models import (
    ImportJob,
    ImportStatus,
    Task,
    TaskStatus,
)
from annotation.services import rank_new_tasks, task_media_url
from kinds import AnswerFile
from labelhub.background import enqueue_with_rows
from labelhub.content import categories_of
from labelhub.models import Project
from labelhub.quality_bars import quality_with_defaults
from labelhub.storage import stored_file_delete

# --- import ----------------------------------------------------------------------------------

BATCH_SIZE = 2000
UPDATE_FIELDS = ("data", "gold", "predictions", "callback_url", "priority")
# Import fields stored under another name: ``content`` (names) is the task's ``content_flags``.
STORED_AS = {"content": "content_flags"}


@dataclass(frozen=True)
class ImportOutcome:
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


def _chunks(items: list, size: int = BATCH_SIZE) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def tasks_check(
    *,
    project: Project,
    rows: list[TaskRow],
    progress: Callable[[int], None] | None = None,
    import_format: str = "",
) -> list[CleanTask]:
    """Check every row (nothing written); raise :class:`ImportRejected` listing every problem.

    An ``external_id`` given twice in one import is a problem too: which of the two would win is
    not something to guess. ``import_format`` names the format the rows are in, among those the
    kind reads (``kind.import_formats()``); without it the kind detects each row's.
    """
    kind = project.task_kind
    import_format_check(kind=kind, import_format=import_format)
    schema = project.schema
    media_field = media_field_for(kind=kind, schema=schema)
    known = _known_data(project=project, rows=rows, media_field=media_field)
    categories = categories_of(project.organization_id)
    cleaned: list[CleanTask] = []
    problems: list[Problem] = []
    total_problems = 0
    first_seen: dict[str, str] = {}
    for n, row in enumerate(rows, start=1):
        task, row_problems = row_clean(
            row,
            kind=kind,
            schema=schema,
            media_field=media_field,
            known_data=known.get(_external_id_of(row)),
            categories=categories,
            import_format=import_format,
        )
        if task is not None and task.external_id:
            earlier = first_seen.setdefault(task.external_id, row.where)
            if earlier != row.where:
                row_problems = [
                    Problem(row.where, "external_id", f"Also given in {earlier} of this import.")
                ]
                task = None
        if row_problems:
            total_problems += len(row_problems)
            if len(problems) < MAX_PROBLEMS:
                problems.extend(row_problems)
        elif task is not None:
            cleaned.append(task)
        if progress is not None and n % 1000 == 0:
            progress(n)
    if total_problems:
        raise ImportRejected(problems, total_problems=total_problems)
    return cleaned


def import_format_check(*, kind, import_format: str) -> None:
    """Refuse a format the project's kind does not read, before any row is looked at."""
    names = [fmt.name for fmt in kind.import_formats()]
    if import_format and import_format not in names:
        message = (
            f"Unknown format; a {kind.label} project reads: {', '.join(names)}."
            if names
            else f"A {kind.label} project reads no named format."
        )
        raise ImportRejected([Problem("request", "format", message)])


def _external_id_of(row: TaskRow) -> str:
    value = row.external_id
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) else ""


def _needs_what_it_knew(row: TaskRow, media_field: str) -> bool:
    """Whether a row may lean on its task's stored data: no data, or an image without a size."""
    data = row.data
    if data is None or data == {}:
        return True
    return isinstance(data, dict) and media_field in data and "width" not in data


def _known_data(*, project: Project, rows: list[TaskRow], media_field: str) -> dict[str, dict]:
    """The stored data of the existing tasks that rows update and may need (see row_clean)."""
    wanted = sorted(
        {_external_id_of(row) for row in rows if _needs_what_it_knew(row, media_field)} - {""}
    )
    known: dict[str, dict] = {}
    for chunk in _chunks(wanted, 5000):
        known.update(
            Task.objects.filter(project=project, external_id__in=chunk).values_list(
                "external_id", "data"
            )
        )
    return known


def _existing_ids(*, project: Project, external_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    if not external_ids:
        return found
    if connection.vendor == "postgresql":
        # One array parameter instead of thousands of IN placeholders to send and parse.
        table = connection.ops.quote_name(Task._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_id, id FROM {table} "  # noqa: S608 - our table name
                "WHERE project_id = %s AND external_id = ANY(%s)",
                [project.pk, external_ids],
            )
            return dict(cursor.fetchall())
    for chunk in _chunks(external_ids, 5000):
        found.update(
            Task.objects.filter(project=project, external_id__in=chunk).values_list(
                "external_id", "pk"
            )
        )
    return found


def _save_media(*, task: Task, clean: CleanTask) -> None:
    """Store an uploaded file (and an image's thumbnail) and point ``data`` at it."""
    info = clean.media_info
    base = os.path.basename(clean.media_file.name)
    with clean.media_file.open() as handle:
        task.media.save(base, File(handle), save=False)
    if isinstance(info, ImageInfo):
        thumb_name = f"thumb-{os.path.splitext(base)[0]}.jpg"
        task.thumbnail.save(thumb_name, ContentFile(info.thumbnail), save=False)
    task.media_meta = info.meta if info is not None else {}
    task.data = {**task.data, clean.media_field: task_media_url(task=task)}
    task.save(update_fields=["media", "thumbnail", "media_meta", "data", "updated_at"])


@transaction.atomic
def tasks_write(*, project: Project, tasks: list[CleanTask]) -> ImportOutcome:
    """Write checked tasks: new ones in bulk, those whose ``external_id`` exists updated in bulk.

    An update replaces ``data`` and whatever else the import gave (gold, predictions, callback_url,
    priority); answers already in, the status and the overlap stay as they are.
    """
    overlap = quality_with_defaults(project.quality)["overlap"]
    marked = 0
    for clean in tasks:
        marked |= clean.content_flags
    if marked & ~project.task_content_flags:
        # Only grows; read by the queue to serve a person who opted out of every category the
        # tasks carry from the unmarked tasks alone (see queue_sql._candidate).
        Project.objects.filter(pk=project.pk).update(
            task_content_flags=F("task_content_flags").bitor(marked)
        )
        project.task_content_flags |= marked
    existing = _existing_ids(
        project=project, external_ids=[task.external_id for task in tasks if task.external_id]
    )
    postgres = connection.vendor == "postgresql"
    plain: list[CleanTask] = []  # new tasks without a file: the fast path
    with_media: list[tuple[Task, CleanTask]] = []
    changed: dict[frozenset, list[Task]] = {}

    def model(clean: CleanTask, pk: int | None) -> Task:
        return Task(
            pk=pk,
            project=project,
            data=clean.data,
            external_id=clean.external_id,
            is_gold=clean.gold is not None,
            gold=clean.gold,
            predictions=clean.predictions,
            prediction_score=clean.prediction_score,
            callback_url=clean.callback_url,
            priority=clean.priority,
            content_flags=clean.content_flags,
            overlap=overlap,
        )

    for clean in tasks:
        pk = existing.get(clean.external_id) if clean.external_id else None
        if pk is None and clean.media_file is None:
            plain.append(clean)
            continue
        row = model(clean, pk)
        if clean.media_file is not None:
            with_media.append((row, clean))
        if pk is not None:
            fields = {"data"} | (clean.given & set(UPDATE_FIELDS))
            fields |= {STORED_AS[key] for key in clean.given & set(STORED_AS)}
            if "gold" in fields:
                fields.add("is_gold")
            if "predictions" in fields:  # a new score: ranked again after the import
                fields |= {"prediction_score", "queue_rank"}
            changed.setdefault(frozenset(fields), []).append(row)
    if postgres:
        _insert_by_copy(project_id=project.pk, overlap=overlap, tasks=plain)
        if len(plain) >= ANALYZE_AFTER:
            transaction.on_commit(_refresh_task_statistics)
    else:
        for chunk in _chunks(plain):
            Task.objects.bulk_create([model(clean, None) for clean in chunk])
    new_media = [row for row, _ in with_media if row.pk is None]
    for chunk in _chunks(new_media):
        Task.objects.bulk_create(chunk)
    now = timezone.now()
    for fields, rows in changed.items():
        if postgres:
            _update_by_unnest(rows, fields=sorted(fields), now=now)
            continue
        for row in rows:
            row.updated_at = now
        for chunk in _chunks(rows):
            Task.objects.bulk_update(chunk, [*sorted(fields), "updated_at"])
    for row, clean in with_media:
        _save_media(task=row, clean=clean)
    created = len(plain) + len(new_media)
    if quality_with_defaults(project.quality)["queue_order"] != "priority":
        transaction.on_commit(partial(rank_new_tasks, project_id=project.pk), robust=True)
    if created:
        tasks_imported(project_id=project.pk)  # e.g. pre-labels from the project's backends
    return ImportOutcome(created=created, updated=sum(len(rows) for rows in changed.values()))


COPY_FIELDS = (
    "project",
    "data",
    "external_id",
    "is_gold",
    "gold",
    "predictions",
    "prediction_score",
    "queue_rank",
    "callback_url",
    "priority",
    "content_flags",
    "status",
    "overlap",
    "answer_count",
    "lease_count",
    "media",
    "thumbnail",
    "media_meta",
    "created_at",
    "updated_at",
)
JSON_FIELDS = {"data", "gold", "predictions", "media_meta"}
SQL_TYPES = {"data": "jsonb", "gold": "jsonb", "predictions": "jsonb", "is_gold": "boolean",
             "callback_url": "text", "priority": "integer", "prediction_score": "double precision",
             "queue_rank": "double precision", "content_flags": "bigint"}  # fmt: skip


# Bulk imports of at least this many new tasks refresh PostgreSQL's statistics of the task table.
ANALYZE_AFTER = 10_000


def _refresh_task_statistics() -> None:
    """ANALYZE the task table once a big import has committed.

    Until autovacuum gets to it (a minute or more), the planner believes the new project tiny
    and may sort all its tasks instead of walking the queue's partial index on every claim. A
    sample of the table takes a fraction of a second.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(Task._meta.db_table)}")


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _insert_by_copy(*, project_id: int, overlap: int, tasks: list[CleanTask]) -> None:
    """Insert new tasks with PostgreSQL's COPY: several times faster than a multi-row INSERT.

    Fills exactly what ``Task.objects.create`` would (defaults, timestamps); ids are not needed
    back because these tasks have no uploaded file to attach.
    """
    if not tasks:
        return
    meta = Task._meta
    columns = ", ".join(connection.ops.quote_name(meta.get_field(f).column) for f in COPY_FIELDS)
    table = connection.ops.quote_name(meta.db_table)
    now = timezone.now()
    status = TaskStatus.OPEN.value
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            write = copy.write_row
            for task in tasks:
                gold = task.gold
                write(
                    (
                        project_id,
                        dumps(task.data),
                        task.external_id,
                        gold is not None,
                        None if gold is None else dumps(gold),
                        dumps(task.predictions),
                        task.prediction_score,
                        0.0,
                        task.callback_url,
                        task.priority,
                        task.content_flags,
                        status,
                        overlap,
                        0,
                        0,
                        "",
                        "",
                        "{}",
                        now,
                        now,
                    )
                )


def _update_by_unnest(rows: list[Task], *, fields: list[str], now: datetime) -> None:
    """Update many tasks in one statement per batch: ``UPDATE … FROM unnest(arrays)``.

    Django's ``bulk_update`` writes a CASE per field per row, which PostgreSQL plans slowly.
    """
    meta = Task._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    sets = ", ".join(f"{quote(meta.get_field(f).column)} = v.{quote(f)}" for f in fields)
    arrays = ", ".join(["%s::bigint[]", *(f"%s::{SQL_TYPES[f]}[]" for f in fields)])
    names = ", ".join(["id", *(quote(f) for f in fields)])
    sql = (
        f"UPDATE {table} AS t SET {sets}, {quote(meta.get_field('updated_at').column)} = %s "  # noqa: S608
        f"FROM unnest({arrays}) AS v({names}) WHERE t.{quote(meta.pk.column)} = v.id"
    )
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            params: list = [now, [row.pk for row in chunk]]
            for f in fields:
                values = [getattr(row, f) for row in chunk]
                params.append([_json(v) for v in values] if f in JSON_FIELDS else values)
            cursor.execute(sql, params)


def tasks_import(
    *,
    project: Project,
    rows: list[TaskRow],
    progress: Callable[[int], None] | None = None,
    import_format: str = "",
) -> ImportOutcome:
    """Check all rows, then write them all in one transaction, or raise and write nothing."""
    tasks = tasks_check(project=project, rows=rows, progress=progress, import_format=import_format)
    try:
        return tasks_write(project=project, tasks=tasks)
    except IntegrityError:
        # Another import created one of these external ids between our lookup and our insert.
        raise ImportRejected(
            [
                Problem(
                    "import",
                    "external_id",
                    "Another import added some of these tasks at the "
                    "same time; nothing was imported. Send it again to update them.",
                )
            ]
        ) from None


def _match_name(name: str) -> str:
    return posixpath.basename(name.replace("\\", "/")).lower()


# What a file of answers becomes (the API's and the form's ``coco`` option).
COCO_USES = ("gold", "predictions")


@transaction.atomic
def tasks_attach_answers(*, project: Project, answers: AnswerFile, use: str) -> ImportOutcome:
    """Set a file's answers (a COCO file's boxes) as the gold answer (``use="gold"``) or the
    prediction of existing tasks.

    A file name is matched to a task whose ``external_id`` is that name (with or without folders),
    else whose media URL (an image's, a clip's) ends with it. Every name must match a task and
    every answer must be valid for that task; otherwise nothing changes.
    """
    if answers.kind != project.kind:
        reader = kinds.find(answers.kind)
        label = reader.label.lower() if reader else answers.kind
        raise ImportRejected(
            [Problem("file", "", f"{answers.format} files are for projects of {label}.")]
        )
    if use not in COCO_USES:
        raise ImportRejected(
            [Problem("file", "coco", f"Say whether {answers.format} is gold or predictions.")]
        )
    media_fields = list(project.task_kind.media_fields)
    by_name: dict[str, Task] = {}
    by_url: dict[str, Task] = {}
    for task in Task.objects.filter(project=project).only("pk", "external_id", "data").iterator():
        if task.external_id:
            by_name.setdefault(task.external_id.lower(), task)
            by_name.setdefault(_match_name(task.external_id), task)
        data = task.data if isinstance(task.data, dict) else {}
        for media_field in media_fields:
            url = data.get(media_field)
            if isinstance(url, str):
                by_url.setdefault(_match_name(url.split("?")[0]), task)
    kind = project.task_kind
    problems: list[Problem] = []
    updates: list[Task] = []
    for file_name, given in answers.results.items():
        where = answers.where[file_name]
        task = (
            by_name.get(file_name.lower())
            or by_name.get(_match_name(file_name))
            or by_url.get(_match_name(file_name))
        )
        if task is None:
            problems.append(Problem(where, "file_name", "No task has this file name."))
            continue
        try:
            result = kind.clean_result(given, schema=project.schema, data=task.data)
        except ValidationError as error:
            for path, messages in error.message_dict.items():
                problems.extend(
                    Problem(where, path.removeprefix("result."), message) for message in messages
                )
            continue
        if use == "gold":
            task.gold, task.is_gold = result, True
        else:
            task.predictions = [result]
        updates.append(task)
    if problems:
        raise ImportRejected(problems)
    fields = ["gold", "is_gold"] if use == "gold" else ["predictions"]
    for chunk in _chunks(updates):
        Task.objects.bulk_update(chunk, fields)
    return ImportOutcome(created=0, updated=len(updates))


def parsed_import(*, project: Project, parsed: Parsed, coco_use: str = "") -> ImportOutcome:
    if parsed.answers is not None:
        use = coco_use or "predictions"
        return tasks_attach_answers(project=project, answers=parsed.answers, use=use)
    return tasks_import(project=project, rows=parsed.rows)


# --- background imports ----------------------------------------------------------------------


def _bundle(files: list[tuple[str, IO[bytes]]]) -> tuple[str, File]:
    """Several uploaded files as one (a zip), so that one import job reads one upload."""
    if len(files) == 1:
        name, handle = files[0]
        return os.path.basename(name), File(handle)
    # On disk past the upload memory limit: the bundle streams to storage from there.
    buffer = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, handle in files:
            base = os.path.basename(name) or "file"
            if base in used:
                raise ImportRejected([Problem(f"file {base}", "", "Two files have this name.")])
            used.add(base)
            with archive.open(base, "w") as member:
                shutil.copyfileobj(handle, member, 1024 * 1024)
    buffer.seek(0)
    return f"{len(files)} files.zip", File(buffer)


@transaction.atomic
def import_job_create(
    *,
    project: Project,
    user: AbstractBaseUser | None,
    files: list[tuple[str, IO[bytes]]] | None = None,
    items: list | None = None,
    coco_use: str = "",
    import_format: str = "",
) -> ImportJob:
    """Store the upload (files, or a JSON list of tasks) and queue its import after commit."""
    if coco_use and coco_use not in COCO_USES:
        raise ImportRejected([Problem("request", "coco", "COCO is 'gold' or 'predictions'.")])
    import_format_check(kind=project.task_kind, import_format=import_format)
    if items is not None:
        name, upload = "tasks.json", ContentFile(json.dumps(items).encode())
    elif files:
        name, upload = _bundle(files)
    else:
        raise ImportRejected([Problem("request", "file", "Choose a file to import.")])
    job = ImportJob(
        project=project,
        created_by_id=getattr(user, "pk", None),
        original_name=name[:300],
        total=len(items) if items is not None else 0,
        options={
            **({"coco": coco_use} if coco_use else {}),
            **({"format": import_format} if import_format else {}),
        },
    )
    job.upload.save(name, upload, save=False)
    job.save()
    from annotation.tasks import import_job_process  # the tasks module imports this one

    enqueue_with_rows(import_job_process, job.pk)
    return job


def import_job_run(*, import_job_id: int) -> ImportJob:
    """Parse, check and write one queued import; record the outcome or the problems.

    Progress (``processed``) is saved while rows are checked; the write itself is one transaction,
    so a poller sees the count rise, then the job finish all at once.
    """
    job = ImportJob.objects.select_related("project").get(pk=import_job_id)
    if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    project = job.project
    media_field = media_field_for(kind=project.task_kind, schema=project.schema)
    try:
        with job.upload.open("rb") as handle:
            # The name it was sent with: a stored name may carry a suffix the store added.
            name = job.original_name or job.upload.name
            parsed = parse_file(handle, name=name, media_field=media_field)
            total = len(parsed.answers.results) if parsed.answers else len(parsed.rows)
            ImportJob.objects.filter(pk=job.pk).update(total=total)

            def progress(n: int) -> None:
                ImportJob.objects.filter(pk=job.pk).update(processed=n)

            if parsed.answers is not None:
                outcome = tasks_attach_answers(
                    project=project,
                    answers=parsed.answers,
                    use=job.options.get("coco") or "predictions",
                )
            else:
                outcome = tasks_import(
                    project=project,
                    rows=parsed.rows,
                    progress=progress,
                    import_format=job.options.get("format", ""),
                )
    except ImportRejected as rejected:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, errors=rejected.messages, finished_at=timezone.now()
        )
    else:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.DONE,
            processed=total,
            created=outcome.created,
            updated=outcome.updated,
            finished_at=timezone.now(),
        )
    _upload_remove(job)
    job.refresh_from_db()
    return job


def _upload_remove(job: ImportJob) -> None:
    """Remove a finished import's uploaded file from storage: the tasks hold what they need
    (their own copy of each image or clip), and uploads would otherwise pile up."""
    name = job.upload.name
    if name:
        ImportJob.objects.filter(pk=job.pk).update(upload="")
        stored_file_delete(name)
