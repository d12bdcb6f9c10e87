"""Reads of the annotation app, each with the joins it needs."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from annotation.models import Annotation, Assignment, AssignmentStatus, Task
from annotation.queue import open_task_filter
from labelhub.models import Project, Role


def project_for_contributor(*, user: AbstractBaseUser, project_id: int) -> Project:
    """The project if ``user`` is a contributor on it, else 404 (as ``project_for`` answers),
    in one query: the queue's hot path asks this on every call."""
    project = (
        Project.objects.filter(
            pk=project_id, members__user_id=user.pk, members__role=Role.CONTRIBUTOR
        ).first()
        if user.is_authenticated
        else None
    )
    if project is None:
        raise Http404("No such project.")
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
