"""Who may act on what, shared by the pages and the API.

A person's rights on a project come only from their one role there (manager, reviewer,
contributor). Managers may also review. Callers that cannot see a project get "not found",
never "forbidden", so that ids from other organizations reveal nothing.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404

from labelhub.models import Organization, OrganizationMember, Project, ProjectMember, Role

User = AbstractBaseUser | AnonymousUser


def role_on(*, user: User, project: Project) -> str | None:
    if not user.is_authenticated:
        return None
    cache = getattr(project, "_role_cache", None)
    if cache is not None and cache[0] == user.pk:
        return cache[1]
    role = (
        ProjectMember.objects.filter(project=project, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )
    project._role_cache = (user.pk, role)  # type: ignore[attr-defined]
    return role


def can_view(*, user: User, project: Project) -> bool:
    return role_on(user=user, project=project) is not None


def can_manage(*, user: User, project: Project) -> bool:
    return role_on(user=user, project=project) == Role.MANAGER


def can_review(*, user: User, project: Project) -> bool:
    return role_on(user=user, project=project) in (Role.MANAGER, Role.REVIEWER)


def can_label(*, user: User, project: Project) -> bool:
    return role_on(user=user, project=project) == Role.CONTRIBUTOR


CHECKS = {
    "view": can_view,
    "manage": can_manage,
    "review": can_review,
    "label": can_label,
}


def project_for(*, user: User, project_id: int, action: str) -> Project:
    """The project if ``user`` may do ``action`` on it; otherwise 404, whatever the reason."""
    project = Project.objects.select_related("organization").filter(pk=project_id).first()
    if project is None or not CHECKS[action](user=user, project=project):
        raise Http404("No such project.")
    return project


def organization_for(*, user: User, slug: str, admin: bool = True) -> Organization:
    """The organization if ``user`` is a member (an admin, with ``admin``); otherwise 404.

    Only an organization's admins manage its people: a member who is not an admin, a person of
    another organization and staff without a membership all get "not found".
    """
    if not user.is_authenticated:
        raise Http404("No such organization.")
    member = (
        OrganizationMember.objects.select_related("organization")
        .filter(organization__slug=slug, user_id=user.pk)
        .first()
    )
    if member is None or (admin and not member.is_admin):
        raise Http404("No such organization.")
    return member.organization
