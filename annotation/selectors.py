"""Reads of the annotation app, each with the joins it needs."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

import kinds
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    ContributorStatus,
    ProjectContributor,
    Task,
    TaskStatus,
)
from annotation.queue import QueueRefusal, open_task_filter
from labelhub.content import tasks_not_opted_out
from labelhub.models import Project, ProjectMember, Role

# What the queue needs of a project; the other fields load on first use.
# What the queue reads of the project (the content bits too: an opted-out claim tests them).
QUEUE_PROJECT_FIELDS = (
    *("id", "organization_id", "name", "kind", "schema", "quality", "archived_at"),
    *("content_flags", "task_content_flags"),
)


@dataclass(frozen=True)
class ShownTask:
    """A task's data as one contributor sees it (blind, candidates in their order) and the
    candidate ids in that order (``[]`` when the kind compares nothing)."""

    data: dict
    order: list[str]


def task_shown_to(*, project: Project, task: Task, contributor_id: int) -> ShownTask:
    """What the work screen and the API's next task show a contributor. No query: the order is
    derived from task and person (``kinds.shown_order``), and the submit derives it again to
    record it, so what was shown never depends on what a client says."""
    kind = project.task_kind
    order = kinds.shown_order(
        kind,
        task.data,
        quality=project.quality or {},
        task_id=task.pk,
        contributor_id=contributor_id,
    )
    data = kind.for_contributor(task.data)
    if order:
        data = kind.in_shown_order(data, order)
    return ShownTask(data=data, order=order)


class ProjectArchived(QueueRefusal):
    """The project is archived: it hands out no work until a manager unarchives it."""

    code = "project_archived"
    status = 409


def archived_refusal(project: Project) -> ProjectArchived | None:
    if project.archived_at is None:
        return None
    return ProjectArchived(
        "This project is archived: it has no work for anyone until a manager unarchives it."
    )


def _datetime_from_db(value):
    """A datetime read through a raw cursor as the ORM gives it (SQLite returns text)."""
    if not isinstance(value, str):
        return value
    parsed = parse_datetime(value)
    return timezone.make_aware(parsed, UTC) if timezone.is_naive(parsed) else parsed


def project_for_contributor(*, user: AbstractBaseUser, project_id: int) -> Project:
    """The project if ``user`` is a contributor on it, else 404 (as ``project_for`` answers).

    One hand-written query: the queue asks this on every call, and building it with the ORM
    costs more than running it. With an API token, "next task" reads it in the token's own
    statement instead (:func:`contributor_project_sql`, ``annotation.api.authentication``).
    """
    if not user.is_authenticated:
        raise Http404("No such project.")
    columns = ", ".join(f"p.{name}" for name in QUEUE_PROJECT_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {Project._meta.db_table} p "  # noqa: S608 - from _meta
            f"JOIN {ProjectMember._meta.db_table} m ON m.project_id = p.id "
            "WHERE p.id = %s AND m.user_id = %s AND m.role = %s",
            [project_id, user.pk, Role.CONTRIBUTOR.value],
        )
        row = cursor.fetchone()
    project = contributor_project_from_row(row, user=user)
    if project is None:
        raise Http404("No such project.")
    return project


def contributor_project_sql(*, user_column: str) -> tuple[str, str, Callable[[int], list]]:
    """The columns (each after a comma) and the LEFT JOINs that read, in another statement, a
    project where the user in ``user_column`` is a contributor (all NULL where they are not: the
    same test as :func:`project_for_contributor`'s); and the params of those joins for a project
    id."""
    columns = "".join(f", p.{name}" for name in QUEUE_PROJECT_FIELDS)
    joins = (
        f" LEFT JOIN {ProjectMember._meta.db_table} m ON m.project_id = %s "
        f"AND m.role = %s AND m.user_id = {user_column} "
        f"LEFT JOIN {Project._meta.db_table} p ON p.id = m.project_id"
    )
    return columns, joins, lambda project_id: [project_id, Role.CONTRIBUTOR.value]


def contributor_project_from_row(row, *, user: AbstractBaseUser) -> Project | None:
    """The project read by :func:`contributor_project_sql`'s columns; None where the user is
    not a contributor on it (or it does not exist)."""
    if row is None or row[0] is None:
        return None
    values = dict(zip(QUEUE_PROJECT_FIELDS, row, strict=True))
    for name in ("schema", "quality"):
        values[name] = Project._meta.get_field(name).from_db_value(values[name], None, connection)
    values["archived_at"] = _datetime_from_db(values["archived_at"])
    names = [f.attname for f in Project._meta.concrete_fields if f.attname in values]
    project = Project.from_db(connection.alias, names, [values[n] for n in names])
    project._role_cache = (user.pk, Role.CONTRIBUTOR)  # type: ignore[attr-defined]
    return project


def live_assignment_for(*, project: Project, contributor: AbstractBaseUser) -> Assignment | None:
    """The contributor's live lease on the project, read only (a GET may show it, never claim)."""
    return (
        Assignment.objects.select_related("task")
        .filter(
            project=project,
            contributor=contributor,
            status=AssignmentStatus.ACTIVE,
            lease_expires_at__gt=timezone.now(),
        )
        .first()
    )


@dataclass(frozen=True)
class WorkProgress:
    done_today: int
    done_total: int


def work_progress_for(*, project: Project, contributor: AbstractBaseUser) -> WorkProgress:
    """How much the contributor has answered on the project, today (UTC) and in all (one query)."""
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    counts = Annotation.objects.filter(task__project=project, contributor=contributor).aggregate(
        total=Count("pk"), today=Count("pk", filter=Q(created_at__gte=midnight))
    )
    return WorkProgress(done_today=counts["today"], done_total=counts["total"])


def media_to_prefetch(*, project: Project, contributor: AbstractBaseUser, current: Task) -> str:
    """The media URL of the task the contributor will most likely get next, for the browser to warm.

    Only for projects without gold tasks: in a project with gold the next claim may be a gold task,
    and a prefetched image that then does not appear would tell the contributor so. Whether a page
    prefetches at all therefore depends on the project, never on the task shown.
    """
    if project.tasks.filter(is_gold=True).exists():
        return ""
    media_fields = list(project.task_kind.media_fields)
    if not media_fields:
        return ""
    # Never the media of a task whose categories the person opted out of: the browser would
    # fetch (and cache) exactly what they chose not to be shown.
    tasks = tasks_not_opted_out(Task.objects.all(), project=project, user=contributor)
    candidate = (
        tasks.filter(open_task_filter(), project=project)
        .exclude(pk=current.pk)
        .exclude(assignments__contributor=contributor)
        .order_by("-priority", "pk")
        .values_list("data", flat=True)
        .first()
    )
    if not candidate:
        return ""
    return next((candidate[key] for key in media_fields if isinstance(candidate.get(key), str)), "")


# --- the data manager ------------------------------------------------------------------------

SKIP_REASONS = [
    ("", "No reason given"),
    ("unclear", "Unclear or unreadable"),
    ("unsure", "Not sure how to answer"),
    ("distressing", "Distressing content"),
    ("broken", "Broken media or data"),
]
BROKEN = "broken"


def skip_reason_label(reason: str) -> str:
    """A skip reason in words: the fixed choices by name, free text as given."""
    return dict(SKIP_REASONS).get(reason, reason)


SORTS = {
    "-id": "Newest",
    "id": "Oldest",
    "-priority": "Priority, highest first",
    "priority": "Priority, lowest first",
    "-answers": "Most answers",
    "answers": "Fewest answers",
    "-agreement": "Agreement, highest first",
    "agreement": "Agreement, lowest first",
    "-skips": "Most skips",
    "-updated": "Changed most recently",
}


@dataclass(frozen=True)
class TaskFilters:
    """What the data manager lists: every field optional, read from a query string."""

    q: str = ""
    status: str = ""  # a TaskStatus value, or "attention"
    gold: bool | None = None
    skipped: bool | None = None
    contributor: str = ""
    label: str = ""
    agreement_min: float | None = None
    agreement_max: float | None = None
    prediction: bool | None = None
    sort: str = "-id"

    @classmethod
    def from_query(cls, query) -> "TaskFilters":
        def flag(name: str) -> bool | None:
            return {"yes": True, "no": False}.get(query.get(name, ""))

        def share(name: str) -> float | None:
            try:
                value = float(query.get(name, ""))
            except ValueError:
                return None
            return min(max(value, 0.0), 1.0) if value == value else None

        status = query.get("status", "")
        sort = query.get("sort", "-id")
        return cls(
            q=query.get("q", "").strip()[:200],
            status=status if status in [*TaskStatus.values, "attention"] else "",
            gold=flag("gold"),
            skipped=flag("skipped"),
            contributor=query.get("contributor", "").strip()[:150],
            label=query.get("label", "").strip()[:100],
            agreement_min=share("agreement_min"),
            agreement_max=share("agreement_max"),
            prediction=flag("prediction"),
            sort=sort if sort in SORTS else "-id",
        )

    @property
    def is_filtered(self) -> bool:
        return any(
            value not in ("", None) for name, value in self.__dict__.items() if name != "sort"
        )


def _eligible(*, project: Project) -> QuerySet[ProjectMember]:
    """Who may still be given the project's tasks: contributors not paused or disqualified (a
    subquery: the task list runs it inside its own statement)."""
    barred = ProjectContributor.objects.filter(
        project=project, status__in=[ContributorStatus.PAUSED, ContributorStatus.DISQUALIFIED]
    ).values("user_id")
    return ProjectMember.objects.filter(project=project, role=Role.CONTRIBUTOR).exclude(
        user_id__in=barred
    )


def _count(queryset) -> Coalesce:
    return Coalesce(
        Subquery(queryset.order_by().values("task").annotate(n=Count("pk")).values("n")[:1]),
        Value(0),
    )


def tasks_with_figures(*, project: Project) -> QuerySet[Task]:
    """The project's tasks, each with ``skip_count``, ``broken_count``, ``agreement`` and
    ``needs_attention``: open work that nobody eligible can still be given (everyone skipped it
    or let it expire, and at least one skipped), or that someone skipped as broken media.
    """
    skips = Assignment.objects.filter(task=OuterRef("pk"), status=AssignmentStatus.SKIPPED)
    eligible = _eligible(project=project)
    had = Assignment.objects.filter(
        task=OuterRef("pk"), contributor_id__in=eligible.values("user_id")
    )
    eligible_count = Coalesce(
        Subquery(eligible.order_by().values("project").annotate(n=Count("pk")).values("n")[:1]),
        Value(0),
    )
    stuck = Q(is_gold=False, status=TaskStatus.OPEN) & (
        Q(broken_count__gt=0) | (Q(skip_count__gt=0) & Q(had_count__gte=F("eligible_count")))
    )
    return (
        Task.objects.filter(project=project)
        .annotate(
            skip_count=_count(skips),
            broken_count=_count(skips.filter(skip_reason=BROKEN)),
            had_count=_count(had),
            eligible_count=eligible_count,
            agreement=F("outcome__agreement"),
        )
        .annotate(needs_attention=Case(When(stuck, then=Value(True)), default=Value(False)))
    )


def _label_match(label: str) -> str:
    """How a box label looks inside a stored result's JSON text on this database."""
    pair = json.dumps({"label": label}, ensure_ascii=connection.vendor != "postgresql")
    return pair[1:-1]


def tasks_for_manager(*, project: Project, filters: TaskFilters) -> QuerySet[Task]:
    """The data manager's list: search, filters and order (see :class:`TaskFilters`)."""
    tasks = tasks_with_figures(project=project)
    f = filters
    if f.q:
        match = Q(external_id__icontains=f.q) | Q(data__icontains=f.q)
        if f.q.isdigit():
            match |= Q(pk=int(f.q))
        tasks = tasks.filter(match)
    if f.status == "attention":
        tasks = tasks.filter(needs_attention=True)
    elif f.status:
        tasks = tasks.filter(status=f.status)
    if f.gold is not None:
        tasks = tasks.filter(is_gold=f.gold)
    if f.skipped is not None:
        tasks = tasks.filter(skip_count__gt=0) if f.skipped else tasks.filter(skip_count=0)
    if f.contributor:
        answered = Annotation.objects.filter(
            task=OuterRef("pk"), contributor__username=f.contributor
        )
        tasks = tasks.filter(Exists(answered))
    if f.label:
        drawn = Annotation.objects.filter(
            task=OuterRef("pk"), result__icontains=_label_match(f.label)
        )
        tasks = tasks.filter(Exists(drawn))
    if f.agreement_min is not None:
        tasks = tasks.filter(agreement__gte=f.agreement_min)
    if f.agreement_max is not None:
        tasks = tasks.filter(agreement__lte=f.agreement_max)
    if f.prediction is not None:
        tasks = tasks.exclude(predictions=[]) if f.prediction else tasks.filter(predictions=[])
    key = f.sort.removeprefix("-")
    column = {
        "id": F("pk"),
        "priority": F("priority"),
        "answers": F("answer_count"),
        "agreement": F("agreement"),
        "skips": F("skip_count"),
        "updated": F("updated_at"),
    }[key]
    order = column.desc(nulls_last=True) if f.sort.startswith("-") else column.asc(nulls_last=True)
    return tasks.order_by(order, "-pk")


def skip_reasons_for(*, task_ids: list[int]) -> dict[int, list[str]]:
    """Each task's skip reasons in words (one query)."""
    reasons: dict[int, list[str]] = {}
    rows = (
        Assignment.objects.filter(task_id__in=task_ids, status=AssignmentStatus.SKIPPED)
        .order_by("task_id", "finished_at")
        .values_list("task_id", "skip_reason")
    )
    for task_id, reason in rows:
        reasons.setdefault(task_id, []).append(skip_reason_label(reason))
    return reasons


@dataclass(frozen=True)
class TaskCounts:
    """A project's tasks, counted the same way on every screen: gold apart from real work."""

    total: int  # real tasks (not gold)
    gold: int
    by_status: dict[str, int]  # real tasks only
    skips: int  # skipped assignments, gold included
    skips_by_reason: list[tuple[str, int]]  # (reason in words, count), most first
    needs_attention: int

    @property
    def waiting_for_answers(self) -> int:
        return self.by_status.get(TaskStatus.OPEN, 0)

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "gold": self.gold,
            "by_status": {value: self.by_status.get(value, 0) for value in TaskStatus.values},
            "skips": self.skips,
            "skips_by_reason": dict(self.skips_by_reason),
            "needs_attention": self.needs_attention,
        }

    @property
    def statuses(self) -> list[tuple[str, str, int]]:
        """(value, word, count) for every status, in the workflow's order."""
        return [(value, label, self.by_status.get(value, 0)) for value, label in TaskStatus.choices]


def task_counts_for(*, project: Project) -> TaskCounts:
    """The figures of a project's task list header, its page and the dashboard's skip block."""
    rows = (
        Task.objects.filter(project=project)
        .order_by()
        .values_list("is_gold", "status")
        .annotate(n=Count("pk"))
    )
    by_status: dict[str, int] = {}
    gold = 0
    for is_gold, status, n in rows:
        if is_gold:
            gold += n
        else:
            by_status[status] = by_status.get(status, 0) + n
    reasons = (
        Assignment.objects.filter(project=project, status=AssignmentStatus.SKIPPED)
        .order_by()
        .values_list("skip_reason")
        .annotate(n=Count("pk"))
    )
    grouped: dict[str, int] = {}
    for reason, n in reasons:
        label = skip_reason_label(reason)
        grouped[label] = grouped.get(label, 0) + n
    attention = tasks_with_figures(project=project).filter(needs_attention=True).count()
    return TaskCounts(
        total=sum(by_status.values()),
        gold=gold,
        by_status=by_status,
        skips=sum(grouped.values()),
        skips_by_reason=sorted(grouped.items(), key=lambda item: (-item[1], item[0])),
        needs_attention=attention,
    )


@dataclass(frozen=True)
class Waiting:
    """What the queue could still give a contributor on a project."""

    count: int  # tasks they can still get
    refusal: str = ""  # why they get none: "archived", "paused", "disqualified"


def tasks_waiting_for_each(
    *, user: AbstractBaseUser, projects: list[Project]
) -> dict[int, Waiting]:
    """The tasks the queue could still hand ``user`` on each project (two queries in all): open
    work with a free slot and gold checks, each one they never had (answered, skipped or let
    expire); none while they are paused or disqualified, or the project is archived. Gold counts
    like any task, so that the figure drops by one whatever they were given (else its not
    dropping would tell a gold task apart).
    """
    live = [project.pk for project in projects if project.archived_at is None]
    barred = dict(
        ProjectContributor.objects.filter(
            project_id__in=live,
            user_id=user.pk,
            status__in=[ContributorStatus.PAUSED, ContributorStatus.DISQUALIFIED],
        ).values_list("project_id", "status")
    )
    open_ids = [pk for pk in live if pk not in barred]
    counts = dict(
        Task.objects.filter(open_task_filter() | Q(is_gold=True), project_id__in=open_ids)
        .exclude(assignments__contributor_id=user.pk)
        .order_by()
        .values_list("project")
        .annotate(n=Count("pk"))
        .values_list("project", "n")
    )
    waiting = {}
    for project in projects:
        if project.archived_at is not None:
            waiting[project.pk] = Waiting(0, "archived")
        elif project.pk in barred:
            waiting[project.pk] = Waiting(0, barred[project.pk])
        else:
            waiting[project.pk] = Waiting(counts.get(project.pk, 0))
    return waiting


def tasks_waiting_for(*, user: AbstractBaseUser, project: Project) -> Waiting:
    return tasks_waiting_for_each(user=user, projects=[project])[project.pk]


def task_counts_by_project(*, project_ids: list[int]) -> dict[int, dict[str, int]]:
    """Tasks by status for each project, gold counted apart under ``"gold"`` (as on the task list
    and the dashboard): one query on the (project, status) index."""
    counts: dict[int, dict[str, int]] = {pk: {} for pk in project_ids}
    rows = (
        Task.objects.filter(project__in=project_ids)
        .values_list("project", "is_gold", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for project_id, is_gold, status, n in rows:
        key = "gold" if is_gold else status
        counts[project_id][key] = counts[project_id].get(key, 0) + n
    return counts
