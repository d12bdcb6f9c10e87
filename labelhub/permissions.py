"""Who may act on what, shared by the pages and the API.

A person's rights on a project come only from their roles there (manager, reviewer,
contributor; someone may hold several, e.g. manage a project and label it). Managers may also
review. Callers that cannot see a project get "not found", never "forbidden", so that ids from
other organizations reveal nothing. Holding several roles changes no rule: nobody reviews their
own answers (the review queue and ``quality.services.review_record`` see to that), and the
labeling screen and the queue answer a manager who labels exactly as any contributor.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404

from labelhub.models import Organization, OrganizationMember, Project, ProjectMember, Role

User = AbstractBaseUser | AnonymousUser


ROLE_ORDER = (Role.MANAGER, Role.REVIEWER, Role.CONTRIBUTOR)


def roles_on(*, user: User, project: Project) -> frozenset[str]:
    """Every role ``user`` holds on ``project`` (one query, then kept on the project object)."""
    if not user.is_authenticated:
        return frozenset()
    cache = getattr(project, "_roles_cache", None)
    if cache is not None and cache[0] == user.pk:
        return cache[1]
    roles = frozenset(
        ProjectMember.objects.filter(project=project, user_id=user.pk).values_list(
            "role", flat=True
        )
    )
    project._roles_cache = (user.pk, roles)  # type: ignore[attr-defined]
    return roles


def roles_in_order(roles) -> list[str]:
    return [role for role in ROLE_ORDER if role in roles]


def role_on(*, user: User, project: Project) -> str | None:
    """The person's first role on the project: manager, else reviewer, else contributor."""
    roles = roles_in_order(roles_on(user=user, project=project))
    return roles[0] if roles else None


def can_view(*, user: User, project: Project) -> bool:
    return bool(roles_on(user=user, project=project))


def can_manage(*, user: User, project: Project) -> bool:
    return Role.MANAGER in roles_on(user=user, project=project)


def can_review(*, user: User, project: Project) -> bool:
    return bool(roles_on(user=user, project=project) & {Role.MANAGER, Role.REVIEWER})


def can_label(*, user: User, project: Project) -> bool:
    # The queue's own lookup (annotation.selectors.project_for_contributor) has checked it.
    if getattr(project, "_role_cache", None) == (user.pk, Role.CONTRIBUTOR):
        return True
    return Role.CONTRIBUTOR in roles_on(user=user, project=project)


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
