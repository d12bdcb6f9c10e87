"""Reads of the core domain, each with the joins it needs."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, OuterRef, QuerySet, Subquery

from annotation.models import Task
from labelhub.models import AuditEvent, Project, ProjectMember, Role


@dataclass
class HomeGroups:
    """A person's projects, grouped by what they can do there."""

    label: list[Project] = field(default_factory=list)
    review: list[Project] = field(default_factory=list)
    manage: list[Project] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.label or self.review or self.manage)


def project_list_for_user(*, user: AbstractBaseUser, search: str = "") -> list[Project]:
    """Projects where ``user`` holds a role, each with ``role``, member and task counts.

    Two queries whatever the number of projects: the projects with their role and member count,
    then the task counts by status from the (project, status) index.
    """
    my_roles = ProjectMember.objects.filter(project=OuterRef("pk"), user=user)
    member_counts = (
        ProjectMember.objects.filter(project=OuterRef("pk"))
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    projects = (
        Project.objects.filter(members__user=user)
        .select_related("organization")
        .annotate(role=Subquery(my_roles.values("role")[:1]), member_total=Subquery(member_counts))
        .order_by("organization__name", "name")
    )
    if search:
        projects = projects.filter(name__icontains=search)
    projects = list(projects)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Task.objects.filter(project__in=[project.pk for project in projects])
        .values_list("project", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for project_id, status, n in rows:
        counts[project_id][status] = n
    for project in projects:
        by_status = counts[project.pk]
        project.task_total = sum(by_status.values())
        project.task_open = by_status.get("open", 0)
        project.task_in_review = by_status.get("in_review", 0)
        project.task_accepted = by_status.get("accepted", 0)
    return projects


def home_groups_for_user(*, user: AbstractBaseUser, search: str = "") -> HomeGroups:
    groups = HomeGroups()
    target = {
        Role.CONTRIBUTOR: groups.label,
        Role.REVIEWER: groups.review,
        Role.MANAGER: groups.manage,
    }
    for project in project_list_for_user(user=user, search=search):
        if project.archived_at is not None and project.role == Role.CONTRIBUTOR:
            continue  # archived: no work here for contributors, so not on their home
        target[project.role].append(project)
    return groups


def audit_events_for(*, project: Project, action: str | None = None) -> QuerySet[AuditEvent]:
    """The project's audit events, newest first, optionally of one action."""
    events = AuditEvent.objects.filter(project=project).select_related("actor")
    if action:
        events = events.filter(action=action)
    return events.order_by("-created_at", "-id")
