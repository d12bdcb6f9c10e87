"""What an export reads: a project's results as :class:`ExportItem` records, and the audit trail.

Both read in chunks with ``values()`` and ``iterator(chunk_size=…)`` (a server-side cursor on
PostgreSQL), so memory stays flat whatever the project's size. The result of a task is its
accepted result (the reviewer's fix, or the proposal that was accepted); with ``accepted_only``
off, tasks not yet accepted give their current proposal; gold tasks, when included, give their
known answer.
"""

import hashlib
import hmac
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from pathlib import PurePosixPath

import orjson
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, JSONField, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone

from annotation.models import Annotation, Task
from annotation.webhooks import project_webhook_secret
from kinds.formats import ExportAnswer, ExportItem
from labelhub.models import Project
from quality.models import NOT_COUNTED, AnnotationReview, Review, TaskOutcome, Verdict

User = get_user_model()

CHUNK_SIZE = 2000


@dataclass(frozen=True)
class ExportOptions:
    accepted_only: bool = True
    include_gold: bool = False
    since: date | None = None  # results from this day on (inclusive)
    until: date | None = None  # up to this day (inclusive)
    # How the DPO writer shapes prompts: auto, standard or conversational (other formats ignore
    # it). Kept here so that a background job and the audit log carry it with the rest.
    style: str = "auto"
    # Box datasets (YOLO, VOC): the share held out for validation, and the images in the zip.
    val_split: float = 0.0
    images: bool = False
    # The address the export was asked at (``https://labels.example.com``): media links in the
    # file are made from it, so that a background job writes the same links as a download.
    base_url: str = ""

    def as_dict(self) -> dict:
        return {
            "accepted_only": self.accepted_only,
            "include_gold": self.include_gold,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "style": self.style,
            "val_split": self.val_split,
            "images": self.images,
            "base_url": self.base_url,
        }

    @classmethod
    def from_dict(cls, value: dict) -> "ExportOptions":
        return cls(
            accepted_only=bool(value.get("accepted_only", True)),
            include_gold=bool(value.get("include_gold", False)),
            since=date.fromisoformat(value["since"]) if value.get("since") else None,
            until=date.fromisoformat(value["until"]) if value.get("until") else None,
            style=value.get("style") or "auto",
            val_split=float(value.get("val_split") or 0.0),
            images=bool(value.get("images", False)),
            base_url=value.get("base_url") or "",
        )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _in_range(field: str, options: ExportOptions) -> Q:
    q = Q()
    if options.since:
        q &= Q(**{f"{field}__gte": _day_start(options.since)})
    if options.until:
        q &= Q(**{f"{field}__lt": _day_start(options.until + timedelta(days=1))})
    return q


def _result_tasks(*, project: Project, options: ExportOptions) -> QuerySet:
    """The project's tasks that have a result to export under ``options``."""
    tasks = Task.objects.filter(project=project)
    has_result = (
        Q(outcome__accepted_result__isnull=False)
        if options.accepted_only
        else Q(outcome__isnull=False)
    )
    if options.include_gold:
        tasks = tasks.filter(has_result | Q(is_gold=True))
    else:
        tasks = tasks.filter(has_result, is_gold=False)
    if options.since or options.until:
        tasks = tasks.annotate(
            result_at=Coalesce("outcome__accepted_at", "outcome__computed_at", "created_at")
        ).filter(_in_range("result_at", options))
    return tasks


def export_count(*, project: Project, options: ExportOptions, audit: bool = False) -> int:
    """How many items (or, for the audit trail, annotations) an export would write."""
    if audit:
        return _audit_annotations(project=project, options=options).count()
    return _result_tasks(project=project, options=options).count()


def export_has_chat(*, project: Project, options: ExportOptions) -> bool:
    """Whether any task the export writes has a chat prompt (a non-empty ``data.messages``)."""
    tasks = _result_tasks(project=project, options=options)
    return tasks.filter(data__messages__0__isnull=False).exists()


def export_first_long_chat(*, project: Project, options: ExportOptions) -> tuple[int, str] | None:
    """(id, external_id) of the first exported task whose chat prompt is not a single user turn:
    plain text cannot hold it. One query, answered before an export starts to stream."""
    return (
        _result_tasks(project=project, options=options)
        .filter(data__messages__0__isnull=False)
        .filter(Q(data__messages__1__isnull=False) | ~Q(data__messages__0__role="user"))
        .order_by("pk")
        .values_list("pk", "external_id")
        .first()
    )


def _media_name(task_media: str, data: dict) -> str:
    return task_media or data.get("image") or data.get("audio") or ""


def _media_link(*, task_id: int, task_media: str, data: dict, base_url: str) -> str:
    """Where the customer fetches the task's media: LabelHub's media route for an uploaded file
    (it takes their API token), else the URL the task came with."""
    if task_media:
        return f"{base_url}{reverse('annotation:task-media', kwargs={'task_id': task_id})}"
    return data.get("image") or data.get("audio") or ""


def uploaded_name(*, stored: str, external_id: str) -> str:
    """The uploaded file's own name. Storage keeps it, unless a file of that name was there
    already: then it adds ``_`` and seven characters, and the task's external id (an uploaded
    file's name) is the original."""
    name = PurePosixPath(stored).name
    if external_id and name != external_id:
        original = PurePosixPath(external_id)
        pattern = rf"{re.escape(original.stem)}_[A-Za-z0-9]{{7}}{re.escape(original.suffix)}"
        if re.fullmatch(pattern, name):
            return external_id
    return name


def export_has_segments(*, project: Project, options: ExportOptions) -> bool:
    """Whether any exported transcript has timed segments (subtitles are made of them)."""
    found = Q(outcome__accepted_result__segments__0__isnull=False)
    if not options.accepted_only:
        found |= Q(
            outcome__accepted_result__isnull=True, outcome__proposal__segments__0__isnull=False
        )
    if options.include_gold:
        found |= Q(is_gold=True, gold__segments__0__isnull=False)
    return _result_tasks(project=project, options=options).filter(found).exists()


def _answers_by_task(
    *, project: Project, tasks: QuerySet, chunk_size: int
) -> Iterator[tuple[int, ExportAnswer]]:
    """(task id, answer) of every counted answer (rejected ones left out) of ``tasks``, in task
    order: a second cursor, read alongside the tasks'."""
    secret = project_webhook_secret(project=project)
    pseudonyms: dict[int, str] = {}
    rows = (
        Annotation.objects.filter(task__in=tasks.values("pk"))
        .exclude(quality_reviews__judgement__in=NOT_COUNTED)
        .order_by("task_id", "pk")
        .annotate(result_json=Cast("result", TextField()))
        .values_list("task_id", "contributor_id", "result_json")
    )
    for task_id, user_id, result in rows.iterator(chunk_size=chunk_size):
        if user_id not in pseudonyms:
            pseudonyms[user_id] = contributor_pseudonym(secret=secret, user_id=user_id)
        yield task_id, ExportAnswer(contributor=pseudonyms[user_id], result=orjson.loads(result))


def _newest_verdict() -> Subquery:
    """The verdict of the task's newest review (a subquery): ``fix`` means the accepted result
    is the reviewer's fix."""
    newest = Review.objects.filter(task=OuterRef("pk")).order_by("-created_at", "-pk")
    return Subquery(newest.values("verdict")[:1])


def export_items(
    *,
    project: Project,
    options: ExportOptions,
    chunk_size: int = CHUNK_SIZE,
    answers: bool = False,
) -> Iterator[ExportItem]:
    """One :class:`ExportItem` per task with a result, in task order, in constant memory.

    ``answers`` also gives each item its counted answers, by contributor pseudonym."""
    tasks = _result_tasks(project=project, options=options)
    answer_rows = (
        _answers_by_task(project=project, tasks=tasks, chunk_size=chunk_size) if answers else None
    )
    pending = next(answer_rows, None) if answer_rows is not None else None
    if options.accepted_only:
        result = F("outcome__accepted_result")
    else:
        result = Coalesce("outcome__accepted_result", "outcome__proposal", output_field=JSONField())
    # JSON columns come as text and are decoded with orjson: several times faster than the
    # JSONField's own decoding, which dominated the export's time; gold only when it is used.
    rows = (
        tasks.order_by("pk")
        .annotate(
            result_json=Cast(result, TextField()),
            data_json=Cast("data", TextField()),
            meta_json=Cast("media_meta", TextField()),
            gold_json=Cast("gold", TextField()),
            confidence=F("outcome__confidence"),
            newest_verdict=_newest_verdict(),
        )
        .values_list(
            "pk",
            "external_id",
            "data_json",
            "media",
            "meta_json",
            "is_gold",
            "gold_json",
            "result_json",
            "confidence",
            "newest_verdict",
        )
    )
    loads = orjson.loads
    base_url = options.base_url.rstrip("/")
    for row in rows.iterator(chunk_size=chunk_size):
        pk, external_id, data, media, meta, is_gold, gold, result, confidence, verdict = row
        data, meta = loads(data), loads(meta or "{}")
        result = loads(gold) if is_gold else (loads(result) if result else None)
        result = result or {}
        given: list[ExportAnswer] = []
        while pending is not None and pending[0] <= pk:
            if pending[0] == pk:
                given.append(pending[1])
            pending = next(answer_rows, None)
        yield ExportItem(
            task_id=pk,
            external_id=external_id,
            data=data,
            result=result,
            media_name=_media_name(media, data),
            media_url=_media_link(task_id=pk, task_media=media, data=data, base_url=base_url),
            file_name=uploaded_name(stored=media, external_id=external_id) if media else "",
            media_path=media,
            width=data.get("width") or meta.get("width") or result.get("width"),
            height=data.get("height") or meta.get("height") or result.get("height"),
            confidence=confidence,
            fixed_by_review=verdict == Verdict.FIX and not is_gold,
            extra={"gold": True} if is_gold else {},
            answers=tuple(given),
        )


# --- who the pseudonyms are ----------------------------------------------------------------------


def people_rows(*, project: Project) -> Iterator[dict]:
    """Every person who answered or reviewed on the project, by the pseudonym that names them in
    every export, with who they are: the mapping only the project's managers may take out."""
    secret = project_webhook_secret(project=project)
    answered = dict(
        Annotation.objects.filter(task__project=project)
        .values_list("contributor_id")
        .annotate(n=Count("pk"))
        .values_list("contributor_id", "n")
    )
    reviewed = dict(
        Review.objects.filter(project=project)
        .values_list("reviewer_id")
        .annotate(n=Count("pk"))
        .values_list("reviewer_id", "n")
    )
    people = User.objects.filter(pk__in=set(answered) | set(reviewed)).order_by("username")
    for user in people.only("pk", "username", "first_name", "last_name", "email"):
        yield {
            "contributor": contributor_pseudonym(secret=secret, user_id=user.pk),
            "username": user.get_username(),
            "name": user.get_full_name(),
            "email": user.email,
            "answers": answered.get(user.pk, 0),
            "reviews": reviewed.get(user.pk, 0),
        }


# --- the audit trail ---------------------------------------------------------------------------


def contributor_pseudonym(*, secret: str, user_id: int) -> str:
    """A stable per-project id for a person: the same person gets another id in another project."""
    digest = hmac.new(secret.encode(), f"user:{user_id}".encode(), hashlib.sha256).hexdigest()
    return "c_" + digest[:16]


def _audit_annotations(*, project: Project, options: ExportOptions) -> QuerySet:
    annotations = Annotation.objects.filter(task__project=project)
    if options.accepted_only:
        accepted = Q(task__outcome__accepted_result__isnull=False)
        annotations = annotations.filter(accepted | Q(task__is_gold=True))
    if not options.include_gold:
        annotations = annotations.filter(task__is_gold=False)
    return annotations.filter(_in_range("created_at", options))


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def audit_rows(
    *, project: Project, options: ExportOptions, chunk_size: int = CHUNK_SIZE
) -> Iterator[dict]:
    """Every annotation with its contributor (pseudonymous), time spent, the task's agreement and
    consensus confidence, and every reviewer verdict on it; one dict per annotation."""
    secret = project_webhook_secret(project=project)
    pseudonyms: dict[int, str] = {}

    def pseudonym(user_id: int) -> str:
        if user_id not in pseudonyms:
            pseudonyms[user_id] = contributor_pseudonym(secret=secret, user_id=user_id)
        return pseudonyms[user_id]

    rows = (
        _audit_annotations(project=project, options=options)
        .order_by("task_id", "pk")
        # The answer is passed through as the JSON text it is stored as (never decoded).
        .annotate(result_json=Cast("result", TextField()))
        .values_list(
            "pk",
            "task_id",
            "task__external_id",
            "task__is_gold",
            "task__status",
            "contributor_id",
            "result_json",
            "active_seconds",
            "gold_score",
            "created_at",
            "task__outcome__agreement",
            "task__outcome__confidence",
        )
        .iterator(chunk_size=chunk_size)
    )
    # Verdicts come from a second cursor in the same (task, annotation) order, merged as both are
    # read: no per-batch lookups, constant memory.
    judgements = (
        AnnotationReview.objects.filter(
            annotation__in=_audit_annotations(project=project, options=options)
        )
        .order_by("annotation__task_id", "annotation_id", "pk")
        .values_list(
            "annotation__task_id",
            "annotation_id",
            "judgement",
            "score",
            "review__verdict",
            "review__reviewer_id",
            "review__comment",
            "review__created_at",
        )
        .iterator(chunk_size=chunk_size)
    )
    pending = next(judgements, None)
    for batch in _batches(rows, chunk_size):
        verdicts: dict[int, list[dict]] = {}
        last_key = (batch[-1][1], batch[-1][0])
        while pending is not None and (pending[0], pending[1]) <= last_key:
            _task, annotation_id, judgement, score, verdict, reviewer, comment, at = pending
            verdicts.setdefault(annotation_id, []).append(
                {
                    "verdict": verdict,
                    "judgement": judgement,
                    "score": score,
                    "reviewer": pseudonym(reviewer),
                    "comment": comment,
                    "at": at.isoformat(),
                }
            )
            pending = next(judgements, None)
        for (
            pk,
            task_id,
            external_id,
            is_gold,
            status,
            contributor_id,
            result,
            seconds,
            gold_score,
            created_at,
            agreement,
            confidence,
        ) in batch:
            yield {
                "annotation_id": pk,
                "task_id": task_id,
                "external_id": external_id,
                "is_gold": is_gold,
                "task_status": status,
                "contributor": pseudonym(contributor_id),
                "result": orjson.Fragment(result),
                "active_seconds": seconds,
                "submitted_at": created_at.isoformat(),
                "gold_score": gold_score,
                "agreement": agreement,
                "confidence": confidence,
                "reviews": verdicts.get(pk, []),
            }


@dataclass(frozen=True)
class AcceptedResult:
    """One accepted result of the incremental feed, and where it sits in the feed's order."""

    task: int
    external_id: str
    data: dict | None
    result: dict
    accepted_at: datetime
    accepted_xid: int | None = None


# The oldest transaction of this database still running when the statement's snapshot was
# taken (PostgreSQL): every id below it is decided, so no acceptance below it can appear later.
# The snapshot's in-progress ids count, except those seen running in *another* database (other
# databases of the server do not hold the feed back); one that ended since the snapshot counts,
# so an acceptance the snapshot cannot see is never passed over. With none, the snapshot's end.
COMMITTED_HORIZON = """(
    SELECT COALESCE(min(running.x), pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
    FROM (
        SELECT xip::text::bigint AS x FROM pg_snapshot_xip(pg_current_snapshot()) AS xip
    ) AS running
    WHERE NOT EXISTS (
        SELECT 1 FROM pg_stat_activity AS elsewhere
        WHERE elsewhere.backend_xid::text::bigint = running.x %% 4294967296
        AND elsewhere.datid IS DISTINCT FROM (
            SELECT oid FROM pg_database WHERE datname = current_database()
        )
    )
)"""
LAST_TASK = 2**63 - 1  # a position after every task of one transaction


def results_feed_in_commit_order() -> bool:
    """Whether the feed orders by transaction (PostgreSQL, migration quality 0006's trigger) or,
    on SQLite, by time behind a settle window (one writer at a time there)."""
    return connection.vendor == "postgresql"


def results_committed_since(
    *,
    project: Project,
    after: tuple[int, int] | None,
    limit: int,
    with_data: bool = False,
) -> list[AcceptedResult]:
    """Accepted results in commit-safe order: ``(accepted_xid, task)`` after ``after``, only
    below the oldest transaction still running (a keyset on ``outcome_project_accepted_xid``).

    A transaction that began before another and commits after it keeps both back until it is
    done, so a cursor never moves past an acceptance that is still to come: nothing is skipped,
    however late a batch commits. The cost is a lag: while any transaction that has written is
    open on the database server, acceptances of later transactions wait for it."""
    rows = TaskOutcome.objects.filter(
        project=project,
        accepted_xid__isnull=False,
        accepted_xid__lt=RawSQL(COMMITTED_HORIZON, ()),  # noqa: S611 - constant SQL
    )
    if after is not None:
        xid, task_id = after
        rows = rows.filter(Q(accepted_xid__gt=xid) | Q(accepted_xid=xid, task_id__gt=task_id))
    data = "task__data" if with_data else "project_id"  # a placeholder column when not asked
    rows = rows.order_by("accepted_xid", "task_id").values_list(
        "task_id", "task__external_id", data, "accepted_result", "accepted_at", "accepted_xid"
    )[:limit]
    return [
        AcceptedResult(task, external_id, data if with_data else None, result, at, xid)
        for task, external_id, data, result, at, xid in rows
    ]


def results_position_of_time_cursor(
    *, project: Project, after: tuple[datetime, int]
) -> tuple[int, int]:
    """Where a cursor handed out by time (API 1.1) goes on in commit order: just before the first
    acceptance after it (at least once: an acceptance ordered differently may come again), or,
    with none, before the oldest transaction still running."""
    at, task_id = after
    first = (
        TaskOutcome.objects.filter(project=project, accepted_xid__isnull=False)
        .filter(Q(accepted_at__gt=at) | Q(accepted_at=at, task_id__gt=task_id))
        .order_by("accepted_at", "task_id")
        .values_list("accepted_xid", flat=True)
        .first()
    )
    if first is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {COMMITTED_HORIZON}", ())
            first = cursor.fetchone()[0]
    return int(first) - 1, LAST_TASK


def results_accepted_since(
    *,
    project: Project,
    after: tuple[datetime, int] | None,
    settled_before: datetime,
    limit: int,
    with_data: bool = False,
) -> list[AcceptedResult]:
    """On SQLite (see :func:`results_committed_since` for PostgreSQL): accepted results in the
    order they were accepted: ``(accepted_at, task)`` after ``after``
    (a keyset on the index ``outcome_project_accepted``, as fast at any depth), up to
    ``settled_before`` (acceptances newer than that may still be committing, and one committed
    later with an earlier time would be skipped by a cursor that had moved past it). The task's
    ``data`` is read only ``with_data`` (it may be large)."""
    rows = TaskOutcome.objects.filter(
        project=project, accepted_at__isnull=False, accepted_at__lt=settled_before
    )
    if after is not None:
        at, task_id = after
        rows = rows.filter(Q(accepted_at__gt=at) | Q(accepted_at=at, task_id__gt=task_id))
    data = "task__data" if with_data else "project_id"  # a placeholder column when not asked
    rows = rows.order_by("accepted_at", "task_id").values_list(
        "task_id", "task__external_id", data, "accepted_result", "accepted_at"
    )[:limit]
    return [
        AcceptedResult(task, external_id, data if with_data else None, result, at)
        for task, external_id, data, result, at in rows
    ]
