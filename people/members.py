"""Organizations and their people: making an organization, its admins, joining and leaving.

Only an organization's admins manage its people (the pages and the API check that with
:func:`labelhub.permissions.organization_for`). Removing a person takes effect at once: their
roles on the organization's projects go, their leases there are given back (so their API token
and sessions reach nothing of it: every route checks membership), and a person left in no
organization loses their API tokens and is deactivated, which ends every session they have. A
person in other organizations keeps their token there. What they did stays, under their name:
answers, reviews, standing and audit rows point at the person, not at the membership.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils.text import slugify

from annotation.models import ContributorStatus, ProjectContributor
from annotation.queue import leases_release
from labelhub.audit import audit_record
from labelhub.models import (
    ApiToken,
    AuditAction,
    Organization,
    OrganizationMember,
    Project,
    ProjectMember,
    Role,
)

ORGANIZATION_NAME_MAX = 200


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "organization"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_create(
    *, name: str, actor: AbstractBaseUser | None = None, slug: str = ""
) -> Organization:
    """A new, empty organization. Its first admin comes by invitation or
    :func:`member_add` (``manage.py createorganization`` does both)."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": ["Give the organization a name."]})
    name = " ".join(name.split())
    if len(name) > ORGANIZATION_NAME_MAX:
        raise ValidationError({"name": [f"A name has at most {ORGANIZATION_NAME_MAX} characters."]})
    if Organization.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": [f"An organization named {name} exists already."]})
    if slug and (slugify(slug) != slug or Organization.objects.filter(slug=slug).exists()):
        raise ValidationError({"slug": [f"The slug {slug!r} is taken or not a slug."]})
    organization = Organization.objects.create(name=name, slug=slug or _unique_slug(name))
    audit_record(
        actor=actor,
        action=AuditAction.ORGANIZATION_CREATED,
        organization=organization,
        summary=f"Created the organization {organization.name}",
    )
    return organization


@transaction.atomic
def member_add(
    *,
    organization: Organization,
    user: AbstractBaseUser,
    is_admin: bool = False,
    project: Project | None = None,
    role: str = "",
    actor: AbstractBaseUser | None = None,
    via: str = "",
) -> OrganizationMember:
    """Put ``user`` in ``organization`` (an admin if ``is_admin``; an existing member keeps an
    admin role they have) and, with ``project``, give them ``role`` there unless they hold one."""
    if project is not None and project.organization_id != organization.pk:
        raise ValidationError({"project": ["That project belongs to another organization."]})
    if project is not None and role not in Role.values:
        raise ValidationError({"role": ["The role is manager, reviewer or contributor."]})
    member, created = OrganizationMember.objects.get_or_create(
        organization=organization, user=user, defaults={"is_admin": is_admin}
    )
    if not created and is_admin and not member.is_admin:
        member.is_admin = True
        member.save(update_fields=["is_admin"])
    if created:
        audit_record(
            actor=actor or user,
            action=AuditAction.PERSON_JOINED,
            organization=organization,
            summary=f"{user.get_username()} joined {organization.name}"
            + (" as an admin" if is_admin else "")
            + (f" ({via})" if via else ""),
            changes={"user": user.get_username(), "admin": is_admin},
        )
    if (
        project is not None
        and not ProjectMember.objects.filter(project=project, user=user, role=role).exists()
    ):
        ProjectMember.objects.create(project=project, user=user, role=role)
        audit_record(
            actor=actor or user,
            action=AuditAction.MEMBER_ADDED,
            project=project,
            summary=f"{user.get_username()} added as {role}" + (f" ({via})" if via else ""),
            changes={"user": user.get_username(), "role": {"from": None, "to": role}},
        )
    return member


def _locked_member(*, organization: Organization, user_id: int) -> OrganizationMember:
    member = (
        OrganizationMember.objects.select_for_update()
        .select_related("user")
        .filter(organization=organization, user_id=user_id)
        .first()
    )
    if member is None:
        raise ValidationError({"user": ["That person is not a member of the organization."]})
    return member


def _check_keeps_an_admin(*, organization: Organization, leaving: OrganizationMember) -> None:
    admins = list(
        OrganizationMember.objects.select_for_update()
        .filter(organization=organization, is_admin=True)
        .values_list("pk", flat=True)
    )
    if admins == [leaving.pk]:
        raise ValidationError(
            {
                "is_admin": [
                    "An organization keeps at least one admin: make someone else admin first."
                ]
            }
        )


@transaction.atomic
def member_set_admin(
    *, organization: Organization, user_id: int, is_admin: bool, actor: AbstractBaseUser | None
) -> OrganizationMember:
    member = _locked_member(organization=organization, user_id=user_id)
    if member.is_admin == is_admin:
        return member
    if not is_admin:
        _check_keeps_an_admin(organization=organization, leaving=member)
    member.is_admin = is_admin
    member.save(update_fields=["is_admin"])
    username = member.user.get_username()
    audit_record(
        actor=actor,
        action=AuditAction.PERSON_ADMIN_CHANGED,
        organization=organization,
        summary=f"{username} {'made an admin' if is_admin else 'no longer an admin'}",
        changes={"user": username, "admin": {"from": not is_admin, "to": is_admin}},
    )
    return member


@transaction.atomic
def member_remove(
    *, organization: Organization, user_id: int, actor: AbstractBaseUser | None
) -> None:
    """Take a person out of the organization, effective at once (see the module's docstring).

    Refused while they are an organization's last admin or a project's only manager.
    """
    member = _locked_member(organization=organization, user_id=user_id)
    user = member.user
    if member.is_admin:
        _check_keeps_an_admin(organization=organization, leaving=member)
    roles = list(
        ProjectMember.objects.select_for_update()
        .filter(project__organization=organization, user_id=user.pk)
        .select_related("project")
    )
    for role in roles:
        if role.role != Role.MANAGER:
            continue
        others = (
            ProjectMember.objects.filter(project_id=role.project_id, role=Role.MANAGER)
            .exclude(user_id=user.pk)
            .exists()
        )
        if not others:
            raise ValidationError(
                {
                    "user": [
                        f"{user.get_username()} is the only manager of {role.project.name}: "
                        "make someone else manager there first."
                    ]
                }
            )
    username = user.get_username()
    for role in roles:
        audit_record(
            actor=actor,
            action=AuditAction.MEMBER_REMOVED,
            project=role.project,
            summary=f"{username} removed (was {role.role}) with the organization",
            changes={"user": username, "role": {"from": role.role, "to": None}},
        )
    project_ids = list(organization.projects.values_list("pk", flat=True))
    released = leases_release(contributor_id=user.pk, project_ids=project_ids)
    ProjectMember.objects.filter(pk__in=[role.pk for role in roles]).delete()
    member.delete()
    # A token is the person's: without a membership here it reaches nothing of this
    # organization, and it goes on working in the others. It ends with the last one.
    elsewhere = OrganizationMember.objects.filter(user_id=user.pk).exists()
    token_deleted = 0
    if not elsewhere:
        token_deleted, _ = ApiToken.objects.filter(user_id=user.pk).delete()
    deactivated = not elsewhere and not user.is_staff and user.is_active
    if deactivated:
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    audit_record(
        actor=actor,
        action=AuditAction.PERSON_REMOVED,
        organization=organization,
        summary=f"{username} removed from {organization.name}",
        changes={
            "user": username,
            "projects": [role.project.name for role in roles],
            "leases_released": released,
            "token_revoked": bool(token_deleted),
            "account_deactivated": deactivated,
        },
    )


# --- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectRole:
    project: Project
    role: str


@dataclass
class PersonRow:
    """One line of the People page (and of the members API)."""

    member: OrganizationMember
    projects: list[ProjectRole]
    last_active: datetime | None
    submitted: int
    gold_answered: int
    gold_accuracy: float | None
    paused_on: int
    disqualified_on: int

    @property
    def user(self) -> AbstractBaseUser:
        return self.member.user

    @property
    def standing(self) -> str:
        """The standing summary in words, e.g. "412 answers · gold 92% · paused on 1"."""
        if not self.submitted and not self.gold_answered:
            return "No answers yet"
        parts = [f"{self.submitted} answer{'s' if self.submitted != 1 else ''}"]
        if self.gold_accuracy is not None:
            parts.append(f"gold {self.gold_accuracy:.0%}")
        if self.paused_on:
            parts.append(f"paused on {self.paused_on}")
        if self.disqualified_on:
            parts.append(f"disqualified on {self.disqualified_on}")
        return " · ".join(parts)


def people_of(*, organization: Organization) -> list[PersonRow]:
    """The organization's members with their projects and roles, last activity and standing.

    Four queries whatever the number of people.
    """
    members = list(
        OrganizationMember.objects.filter(organization=organization)
        .select_related("user")
        .order_by("-is_admin", "user__username")
    )
    user_ids = [member.user_id for member in members]
    projects: dict[int, list[ProjectRole]] = {uid: [] for uid in user_ids}
    for role in (
        ProjectMember.objects.filter(project__organization=organization, user_id__in=user_ids)
        .select_related("project")
        .order_by("project__name")
    ):
        projects[role.user_id].append(ProjectRole(role.project, role.role))
    standings = {
        row["user_id"]: row
        for row in ProjectContributor.objects.filter(
            project__organization=organization, user_id__in=user_ids
        )
        .values("user_id")
        .annotate(
            submitted=Sum("standing__submitted_count"),
            gold_answered=Sum("gold_answered_count"),
            gold_sum=Sum("gold_score_sum"),
            last_submitted=Max("standing__last_submitted_at"),
            paused=Count("pk", filter=Q(status=ContributorStatus.PAUSED)),
            disqualified=Count("pk", filter=Q(status=ContributorStatus.DISQUALIFIED)),
        )
        .order_by()
    }
    rows = []
    for member in members:
        row = standings.get(member.user_id, {})
        gold_answered = row.get("gold_answered") or 0
        candidates = [t for t in (member.user.last_login, row.get("last_submitted")) if t]
        rows.append(
            PersonRow(
                member=member,
                projects=projects[member.user_id],
                last_active=max(candidates) if candidates else None,
                submitted=row.get("submitted") or 0,
                gold_answered=gold_answered,
                gold_accuracy=(row["gold_sum"] / gold_answered) if gold_answered else None,
                paused_on=row.get("paused") or 0,
                disqualified_on=row.get("disqualified") or 0,
            )
        )
    return rows
