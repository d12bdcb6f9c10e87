"""Reads of the annotation app, each with the joins it needs."""

from dataclasses import dataclass
from datetime import UTC

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from annotation.models import Annotation, Assignment, AssignmentStatus, Task
from annotation.queue import QueueRefusal, open_task_filter
from labelhub.models import Project, ProjectMember, Role

# What the queue needs of a project; the other fields load on first use.
QUEUE_PROJECT_FIELDS = ("id", "organization_id", "name", "kind", "schema", "quality", "archived_at")


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
    costs more than running it.
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
    if row is None:
        raise Http404("No such project.")
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
    candidate = (
        Task.objects.filter(open_task_filter(), project=project)
        .exclude(pk=current.pk)
        .exclude(assignments__contributor=contributor)
        .order_by("-priority", "pk")
        .values_list("data", flat=True)
        .first()
    )
    if not candidate:
        return ""
    return next((candidate[key] for key in media_fields if isinstance(candidate.get(key), str)), "")
