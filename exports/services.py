"""Exports: which formats each task kind offers, the streamed file, and background export jobs.

The writers live in :mod:`labelhub.formats` and know nothing of the database; this module joins
them to :mod:`exports.selectors`. An export is a generator of ``bytes`` chunks, served as a
``StreamingHttpResponse`` or written to storage by :func:`export_job_run`.
"""

import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exports.models import ExportJob, ExportStatus
from exports.selectors import (
    ExportOptions,
    audit_rows,
    export_count,
    export_first_long_chat,
    export_has_chat,
    export_items,
)
from labelhub.audit import audit_record
from labelhub.formats import Chunks, boxes, preferences, transcripts
from labelhub.formats.preferences import DpoStyle, StyleRefused
from labelhub.formats.streams import json_line
from labelhub.models import AuditAction, Project

JSONL = "application/x-ndjson"
ZIP = "application/zip"
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    content_type: str
    extension: str


def _labels(project: Project) -> list[str]:
    return [label["name"] for label in project.schema.get("labels", [])]


DPO_STYLES = ("auto", "standard", "conversational")


def dpo_style(*, project: Project, options: ExportOptions) -> DpoStyle:
    """The one style of a DPO file, decided before any row is written (a stream cannot go back).

    ``auto`` is conversational as soon as any exported task has a chat prompt, else standard;
    ``standard`` is refused (:class:`StyleRefused`) when a chat prompt has no plain-text form.
    """
    if options.style not in DPO_STYLES:
        raise ValueError(f"Unknown DPO style {options.style!r}; choose one of: {DPO_STYLES}.")
    if options.style == "conversational":
        return "conversational"
    if options.style == "auto":
        chat = export_has_chat(project=project, options=options)
        return "conversational" if chat else "standard"
    refused = export_first_long_chat(project=project, options=options)
    if refused is not None:
        task_id, external_id = refused
        raise StyleRefused(task_id=task_id, external_id=external_id)
    return "standard"


# name -> (format, writer(items source, project, options) -> chunks); a writer's arguments are
# computed when it is called, before the first chunk is asked for.
WRITERS: dict[str, dict[str, tuple[Format, Callable]]] = {
    "bbox": {
        "coco": (
            Format("coco", "COCO JSON", "application/json", "json"),
            lambda items, project, options: boxes.coco(items, labels=_labels(project)),
        ),
        "yolo": (
            Format("yolo", "YOLO (zip)", ZIP, "zip"),
            lambda items, project, options: boxes.yolo(items, labels=_labels(project)),
        ),
        "voc": (
            Format("voc", "Pascal VOC XML (zip)", ZIP, "zip"),
            lambda items, project, options: boxes.voc(items, labels=_labels(project)),
        ),
    },
    "ranking": {
        "dpo": (
            Format("dpo", "DPO pairs (JSONL)", JSONL, "jsonl"),
            lambda items, project, options: preferences.dpo(
                items, style=dpo_style(project=project, options=options)
            ),
        ),
        "rankings": (
            Format("rankings", "Full rankings (JSONL)", JSONL, "jsonl"),
            lambda items, project, options: preferences.rankings(items),
        ),
    },
    "transcription": {
        "jsonl": (
            Format("jsonl", "JSON lines", JSONL, "jsonl"),
            lambda items, project, options: transcripts.jsonl(items),
        ),
        "csv": (
            Format("csv", "CSV", "text/csv; charset=utf-8", "csv"),
            lambda items, project, options: transcripts.csv(items),
        ),
        "vtt": (
            Format("vtt", "WebVTT subtitles (zip)", ZIP, "zip"),
            lambda items, project, options: transcripts.vtt(items),
        ),
        "srt": (
            Format("srt", "SRT subtitles (zip)", ZIP, "zip"),
            lambda items, project, options: transcripts.srt(items),
        ),
    },
}
AUDIT = Format("audit", "Audit trail: every annotation and review (JSONL)", JSONL, "jsonl")


def export_formats(*, project: Project) -> list[Format]:
    """The formats a project's kind offers, the audit trail last (every kind has it)."""
    return [fmt for fmt, _writer in WRITERS.get(project.kind, {}).values()] + [AUDIT]


def export_format(*, project: Project, name: str) -> Format | None:
    return next((fmt for fmt in export_formats(project=project) if fmt.name == name), None)


class UnknownFormat(ValueError):
    def __init__(self, project: Project, name: str) -> None:
        self.available = [fmt.name for fmt in export_formats(project=project)]
        super().__init__(
            f"Unknown format {name!r} for a {project.kind} project; "
            f"choose one of: {', '.join(self.available)}."
        )


@dataclass(frozen=True)
class ExportFile:
    chunks: Chunks
    format: Format
    filename: str


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
    if fmt is AUDIT:
        rows = _counted(audit_rows(project=project, options=options), tick)
        chunks = (json_line(row) for row in rows)
    else:
        _fmt, writer = WRITERS[project.kind][fmt.name]
        chunks = writer(
            lambda: _counted(export_items(project=project, options=options), tick),
            project,
            options,
        )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    filename = f"project-{project.pk}-{fmt.name}-{stamp}.{fmt.extension}"
    return ExportFile(chunks=chunks, format=fmt, filename=filename)


def export_record(
    *, project: Project, user: AbstractBaseUser, format_name: str, options: ExportOptions, via: str
) -> None:
    """Write the export to the audit log (who took which data out, how)."""
    audit_record(
        actor=user,
        action=AuditAction.EXPORT_REQUESTED,
        project=project,
        summary=f"Export {format_name} ({via})",
        changes={"format": format_name, "via": via, **options.as_dict()},
    )


def export_size(*, project: Project, format_name: str, options: ExportOptions) -> int:
    return export_count(project=project, options=options, audit=format_name == AUDIT.name)


@transaction.atomic
def export_job_create(
    *, project: Project, user: AbstractBaseUser, format_name: str, options: ExportOptions
) -> ExportJob:
    """Queue an export to run in the background (after this transaction commits)."""
    from exports.tasks import export_job_process

    if export_format(project=project, name=format_name) is None:
        raise UnknownFormat(project, format_name)
    if format_name == "dpo":
        dpo_style(project=project, options=options)  # refused now, not as a failed job
    job = ExportJob.objects.create(
        project=project, created_by=user, format=format_name, options=options.as_dict()
    )
    export_record(project=project, user=user, format_name=format_name, options=options, via="job")
    transaction.on_commit(lambda: export_job_process.enqueue(job.pk))
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
        )
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
