"""Reads of the core domain, each with the joins it needs."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, OuterRef, QuerySet, StringAgg, Subquery, Value

from labelhub.models import AuditEvent, Project, ProjectMember
from labelhub.permissions import roles_in_order


def project_list_for_user(
    *,
    user: AbstractBaseUser,
    search: str = "",
    after_id: int | None = None,
    limit: int | None = None,
) -> list[Project]:
    """Projects where ``user`` holds a role, each with ``roles`` (in order: manager, reviewer,
    contributor), ``role`` (the first of them) and ``member_total``: one query whatever the
    number of projects. (The home page adds the task counts: ``config.home``.)

    By organization and name; with ``limit``, a keyset page in id order instead: the first
    ``limit`` projects whose id is above ``after_id`` (the API's cursor pages)."""
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
    if limit is not None:
        if after_id is not None:
            projects = projects.filter(pk__gt=after_id)
        projects = projects.order_by("pk")[:limit]
    projects = list(projects)
    for project in projects:
        project.roles = roles_in_order((project.role_names or "").split(","))
        project.role = project.roles[0] if project.roles else None
    return projects


def audit_events_for(*, project: Project, action: str | None = None) -> QuerySet[AuditEvent]:
    """The project's audit events, newest first, optionally of one action."""
    events = AuditEvent.objects.filter(project=project).select_related("actor")
    if action:
        events = events.filter(action=action)
    return events.order_by("-created_at", "-id")


def project_member_list(
    *, project: Project, after_id: int | None = None, limit: int
) -> list[ProjectMember]:
    """The project's members (one row per role) in id order: the first ``limit`` whose id is
    above ``after_id``, with their user (one query)."""
    members = ProjectMember.objects.filter(project=project).select_related("user")
    if after_id is not None:
        members = members.filter(pk__gt=after_id)
    return list(members.order_by("pk")[:limit])
