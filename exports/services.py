"""Exports: the formats a project's task kind offers, the streamed file, and background jobs.

Each kind lists its formats (``TaskKind.export_formats()``); the writers live in
:mod:`kinds.formats` and know nothing of the database; this module joins them to
:mod:`exports.selectors`. An export is a generator of ``bytes`` chunks, served as a
``StreamingHttpResponse`` or written to storage by :func:`export_job_run`.
"""

import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import kinds
from annotation.events import export_evidence
from annotation.models import Task
from exports.models import ExportJob, ExportStatus
from exports.selectors import (
    ExportOptions,
    audit_rows,
    export_count,
    export_first_long_chat,
    export_has_chat,
    export_has_segments,
    export_items,
    people_rows,
)
from kinds.formats import (
    Chunks,
    ExportContext,
    ExportFormat,
    ExportItem,
    FormatRefused,
)
from kinds.streams import csv_rows, json_line
from labelhub.audit import audit_record
from labelhub.background import enqueue_with_rows
from labelhub.models import AuditAction, AuditEvent, Project
from labelhub.refusals import Refusal

JSONL = "application/x-ndjson"
PROGRESS_EVERY = 1000

# The formats are the kinds' (``TaskKind.export_formats()``); the name is kept for callers.
Format = ExportFormat
AUDIT = ExportFormat("audit", "Audit trail: every annotation and review (JSONL)", JSONL, "jsonl")
# Who each pseudonymous id is: the same id names a person in every export of the project.
PEOPLE = ExportFormat(
    "contributors",
    "Contributors: who each pseudonymous id in the exports is (CSV, keep it private)",
    "text/csv; charset=utf-8",
    "csv",
)
PEOPLE_COLUMNS = ["contributor", "username", "name", "email", "answers", "reviews"]


def _open_media(item: ExportItem) -> bytes | None:
    """An uploaded file's bytes, from wherever the media are stored; None for media given by
    URL (LabelHub does not fetch customers' URLs) or a file that cannot be read."""
    if not item.media_path:
        return None
    storage = Task._meta.get_field("media").storage
    try:
        with storage.open(item.media_path, "rb") as file:
            return file.read()
    except OSError:
        return None


def export_context(*, project: Project, options: ExportOptions) -> ExportContext:
    """What the writers may know: the schema, the options, and questions about the export."""
    return ExportContext(
        schema=project.schema,
        style=options.style,
        has_chat=lambda: export_has_chat(project=project, options=options),
        first_long_chat=lambda: export_first_long_chat(project=project, options=options),
        has_segments=lambda: export_has_segments(project=project, options=options),
        val_split=options.val_split,
        images=options.images,
        open_media=_open_media,
        evidence=partial(export_evidence, project_id=project.pk),
    )


def _kind_formats(project: Project) -> tuple[ExportFormat, ...]:
    kind = kinds.find(project.kind)
    return kind.export_formats() if kind else ()


def export_formats(*, project: Project) -> list[ExportFormat]:
    """The formats a project's kind offers, the audit trail last (every kind has it)."""
    return [*_kind_formats(project), AUDIT, PEOPLE]


def export_format(*, project: Project, name: str) -> ExportFormat | None:
    return next((fmt for fmt in export_formats(project=project) if fmt.name == name), None)


def export_styles() -> list[tuple[str, str]]:
    """The values (and labels) of the ``style`` option: those of every installed kind's formats
    (``ExportFormat.styles``), in their order, the first the default."""
    styles: dict[str, str] = {}
    for kind in kinds.registry().values():
        for fmt in kind.export_formats():
            for value, label in fmt.styles:
                styles.setdefault(value, label)
    return list(styles.items())


class ExportRefused(Refusal):
    """An export refused before it starts (400), for a reason the customer can fix: the API
    answers ``{detail, code}`` plus the writer's details (a DPO style refusal names the task);
    ``field`` is the export option at fault, where the page shows the message."""

    code = "export_refused"
    status = 400

    def __init__(
        self, message: str, *, code: str, field: str = "format", details: dict | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.field = field
        self.details = details or {}

    @classmethod
    def of(cls, refused: FormatRefused) -> "ExportRefused":
        """A kind's writer's refusal as the export's."""
        return cls(str(refused), code=refused.code, field=refused.field, details=refused.details())

    def as_dict(self) -> dict:
        return {**super().as_dict(), **self.details}


class UnknownFormat(ExportRefused):
    """A format the project's kind does not write: ``{"format": [message], "formats": [...]}``,
    the shape of a serializer's field error, with the names to choose from."""

    def __init__(self, project: Project, name: str) -> None:
        self.available = [fmt.name for fmt in export_formats(project=project)]
        super().__init__(
            f"Unknown format {name!r} for a {project.kind} project; "
            f"choose one of: {', '.join(self.available)}.",
            code="unknown_format",
        )

    def as_dict(self) -> dict:
        return {"format": [self.message], "formats": self.available}


def _export_check(fmt: ExportFormat, context: ExportContext) -> None:
    """The format's own check (subtitles without segments, a DPO style that cannot be written):
    a refusal before the export starts, not an empty file or a failed job."""
    if fmt.check is None:
        return
    try:
        fmt.check(context)
    except FormatRefused as refused:
        raise ExportRefused.of(refused) from refused


@dataclass(frozen=True)
class ExportFile:
    chunks: Chunks
    format: ExportFormat
    filename: str

    def named(self, *, project: Project, serial: str) -> "ExportFile":
        return replace(
            self, filename=export_filename(project=project, fmt=self.format, serial=serial)
        )


def export_filename(*, project: Project, fmt: ExportFormat, serial: str) -> str:
    """``project-3-coco-20260102-153012-d481.json``: ``serial`` tells two exports of the same
    second apart (a download's audit record ``d…``, a background job ``job…``; ids never repeat,
    so neither do names)."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return f"project-{project.pk}-{fmt.name}-{stamp}-{serial}.{fmt.extension}"


def _counted(rows: Iterable, tick: Callable[[int], None] | None) -> Iterator:
    if tick is None:
        yield from rows
        return
    n = 0
    for row in rows:
        yield row
        n += 1
        if n % PROGRESS_EVERY == 0:
            tick(PROGRESS_EVERY)
    tick(n % PROGRESS_EVERY)


def export_stream(
    *,
    project: Project,
    format_name: str,
    options: ExportOptions,
    tick: Callable[[int], None] | None = None,
) -> ExportFile:
    """The export's chunks; ``tick(n)`` is called as items are read."""
    fmt = export_format(project=project, name=format_name)
    if fmt is None:
        raise UnknownFormat(project, format_name)
    context = export_context(project=project, options=options)
    _export_check(fmt, context)
    if fmt is AUDIT:
        rows = _counted(audit_rows(project=project, options=options), tick)
        chunks = (json_line(row) for row in rows)
    elif fmt is PEOPLE:
        people = people_rows(project=project)
        chunks = csv_rows(PEOPLE_COLUMNS, ([row[c] for c in PEOPLE_COLUMNS] for row in people))
    else:
        chunks = fmt.write(
            lambda: _counted(
                export_items(project=project, options=options, answers=fmt.answers), tick
            ),
            context,
        )
    filename = export_filename(project=project, fmt=fmt, serial=secrets.token_hex(3))
    return ExportFile(chunks=chunks, format=fmt, filename=filename)


def export_record(
    *, project: Project, user: AbstractBaseUser, format_name: str, options: ExportOptions, via: str
) -> AuditEvent:
    """Write the export to the audit log (who took which data out, how)."""
    return audit_record(
        actor=user,
        action=AuditAction.EXPORT_REQUESTED,
        project=project,
        summary=f"Export {format_name} ({via})",
        changes={"format": format_name, "via": via, **options.as_dict()},
    )


def export_size(*, project: Project, format_name: str, options: ExportOptions) -> int:
    if format_name == PEOPLE.name:
        return 0  # a line per person: always downloaded at once
    return export_count(project=project, options=options, audit=format_name == AUDIT.name)


@transaction.atomic
def export_job_create(
    *, project: Project, user: AbstractBaseUser, format_name: str, options: ExportOptions
) -> ExportJob:
    """Queue an export to run in the background (its task is queued with the job's row)."""
    from exports.tasks import export_job_process

    fmt = export_format(project=project, name=format_name)
    if fmt is None:
        raise UnknownFormat(project, format_name)
    _export_check(fmt, export_context(project=project, options=options))  # not a failed job
    job = ExportJob.objects.create(
        project=project, created_by=user, format=format_name, options=options.as_dict()
    )
    export_record(project=project, user=user, format_name=format_name, options=options, via="job")
    enqueue_with_rows(export_job_process, job.pk)
    return job


ABANDONED_AFTER = timedelta(minutes=2)  # a running job without a heartbeat for this long


def export_job_run(*, export_job_id: int) -> ExportJob:
    """Write the export to a temporary file, then to storage; progress is saved as it goes.

    The job is claimed in one conditional UPDATE: a queued job, or a running one whose worker
    stopped beating (it died). A claimed job starts over from the first item; the file is stored
    only at the end, so a job taken over after a crash still completes exactly once.
    """
    now = timezone.now()
    claimed = ExportJob.objects.filter(
        Q(status=ExportStatus.QUEUED)
        | Q(status=ExportStatus.RUNNING, heartbeat_at__lt=now - ABANDONED_AFTER)
        | Q(status=ExportStatus.RUNNING, heartbeat_at__isnull=True),
        pk=export_job_id,
    ).update(status=ExportStatus.RUNNING, processed=0, heartbeat_at=now)
    job = ExportJob.objects.select_related("project").get(pk=export_job_id)
    if not claimed:
        return job
    options = ExportOptions.from_dict(job.options)
    export_format(project=job.project, name=job.format)  # refuses a format the kind lacks
    total = export_size(project=job.project, format_name=job.format, options=options)
    ExportJob.objects.filter(pk=job.pk).update(total=total)

    def tick(n: int) -> None:
        job.processed += n
        ExportJob.objects.filter(pk=job.pk).update(
            processed=job.processed, heartbeat_at=timezone.now()
        )

    try:
        export = export_stream(
            project=job.project, format_name=job.format, options=options, tick=tick
        ).named(project=job.project, serial=f"job{job.pk}")
        with tempfile.TemporaryFile() as spool:
            for chunk in export.chunks:
                spool.write(chunk)
            spool.seek(0)
            job.file.save(export.filename, File(spool), save=False)
        job.status = ExportStatus.DONE
        job.filename = export.filename
        job.content_type = export.format.content_type
    except Exception as error:
        job.status = ExportStatus.FAILED
        job.error = str(error)[:500]
    job.total = total
    job.finished_at = timezone.now()
    job.save()
    return job


def export_jobs_abandoned(*, now=None) -> list[int]:
    """Jobs whose worker died (running without a heartbeat) or whose queue entry was lost."""
    now = now or timezone.now()
    stale = now - ABANDONED_AFTER
    return list(
        ExportJob.objects.filter(
            Q(status=ExportStatus.RUNNING, heartbeat_at__lt=stale)
            | Q(status=ExportStatus.RUNNING, heartbeat_at__isnull=True)
            | Q(status=ExportStatus.QUEUED, created_at__lt=stale)
        ).values_list("pk", flat=True)
    )
