"""Reads of the core domain, each with the joins it needs."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, OuterRef, Q, QuerySet, StringAgg, Subquery, Value

from annotation.models import ContributorStatus, ProjectContributor, Task
from annotation.queue import open_task_filter
from labelhub.models import AuditEvent, Project, ProjectMember, Role
from labelhub.permissions import roles_in_order


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
    """Projects where ``user`` holds a role, each with ``roles`` (in order: manager, reviewer,
    contributor), ``role`` (the first of them), member and task counts.

    Two queries whatever the number of projects: the projects with their roles and member count,
    then the task counts by status from the (project, status) index.
    """
    my_roles = (
        ProjectMember.objects.filter(project=OuterRef("pk"), user=user)
        .values("project")
        .annotate(names=StringAgg("role", delimiter=Value(",")))
        .values("names")
    )
    member_counts = (
        ProjectMember.objects.filter(project=OuterRef("pk"))
        .values("project")
        .annotate(n=Count("user", distinct=True))
        .values("n")
    )
    projects = (
        Project.objects.filter(pk__in=ProjectMember.objects.filter(user=user).values("project"))
        .select_related("organization")
        .annotate(role_names=Subquery(my_roles), member_total=Subquery(member_counts))
        .order_by("organization__name", "name")
    )
    if search:
        projects = projects.filter(name__icontains=search)
    projects = list(projects)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    gold: dict[int, int] = defaultdict(int)
    rows = (
        Task.objects.filter(project__in=[project.pk for project in projects])
        .values_list("project", "is_gold", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for project_id, is_gold, status, n in rows:
        if is_gold:  # counted apart, as on the task list and the dashboard
            gold[project_id] += n
        else:
            counts[project_id][status] = counts[project_id].get(status, 0) + n
    for project in projects:
        project.roles = roles_in_order((project.role_names or "").split(","))
        project.role = project.roles[0] if project.roles else None
        by_status = counts[project.pk]
        project.task_total = sum(by_status.values())
        project.task_gold = gold[project.pk]
        project.task_open = by_status.get("open", 0)
        project.task_in_review = by_status.get("in_review", 0)
        project.task_accepted = by_status.get("accepted", 0)
    return projects


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


def home_groups_for_user(*, user: AbstractBaseUser, search: str = "") -> HomeGroups:
    groups = HomeGroups()
    target = {
        Role.CONTRIBUTOR: groups.label,
        Role.REVIEWER: groups.review,
        Role.MANAGER: groups.manage,
    }
    for project in project_list_for_user(user=user, search=search):
        for role in project.roles:  # a manager who also labels finds it under both
            if project.archived_at is not None and role == Role.CONTRIBUTOR:
                continue  # archived: no work here for contributors, so not under Label
            target[role].append(project)
    if groups.label:
        waiting = tasks_waiting_for_each(user=user, projects=groups.label)
        for project in groups.label:
            project.waiting = waiting[project.pk]
    return groups


def audit_events_for(*, project: Project, action: str | None = None) -> QuerySet[AuditEvent]:
    """The project's audit events, newest first, optionally of one action."""
    events = AuditEvent.objects.filter(project=project).select_related("actor")
    if action:
        events = events.filter(action=action)
    return events.order_by("-created_at", "-id")
