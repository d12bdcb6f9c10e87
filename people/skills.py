"""Profiles, skills and routing work to the people who fit it.

Each organization keeps its own list of skills. A person declares their level in a skill
(self-declared); an admin of the organization may verify it (and set the level); a change of level
by the person makes it self-declared again. A project may require skills (each at least a level,
optionally verified) and languages; managers find the organization's people by those, and an
*open* project is offered on the home page of every member who meets them, who may join it as a
contributor (its qualification tasks still apply: the queue gives newcomers gold first).
"""

import re
import zoneinfo
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from labelhub.audit import audit_record, changed_fields
from labelhub.models import (
    AuditAction,
    Organization,
    OrganizationMember,
    PersonSkill,
    Profile,
    Project,
    ProjectMember,
    ProjectRequirement,
    Role,
    Skill,
    SkillLevel,
    Verification,
)

SKILL_NAME = re.compile(r"^[a-z0-9][a-z0-9+#._-]{0,59}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MAX_LANGUAGES = 20
LEVEL_NAMES = {level.label.lower(): level.value for level in SkillLevel}


def _clean_skill_name(name: object) -> str:
    text = " ".join(str(name or "").split()).lower().replace(" ", "-")
    if not SKILL_NAME.match(text):
        raise ValidationError(
            {"name": ["A skill is a short name: letters, digits and + # . - _ (e.g. legal-de)."]}
        )
    return text


def level_from(value: object) -> int:
    """A level from its number (1–3) or its name (working, professional, expert)."""
    if isinstance(value, str) and value.strip().lower() in LEVEL_NAMES:
        return LEVEL_NAMES[value.strip().lower()]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in SkillLevel.values:
        return value
    raise ValidationError({"level": ["The level is working, professional or expert."]})


def clean_languages(languages: object) -> list[str]:
    if isinstance(languages, str):
        languages = [part for part in re.split(r"[\s,;]+", languages) if part]
    if not isinstance(languages, list) or len(languages) > MAX_LANGUAGES:
        raise ValidationError({"languages": [f"A list of at most {MAX_LANGUAGES} language codes."]})
    out: list[str] = []
    for code in languages:
        code = str(code).strip()
        head, _, rest = code.partition("-")
        code = head.lower() + (f"-{rest}" if rest else "")
        if not LANGUAGE.match(code):
            raise ValidationError(
                {"languages": [f"{code!r} is not a language code (e.g. en, de, pt-BR)."]}
            )
        if code not in out:
            out.append(code)
    return out


def _skill(organization: Organization, name: object) -> Skill:
    skill = Skill.objects.filter(organization=organization, name=str(name or "").strip().lower())
    found = skill.first()
    if found is None:
        raise ValidationError({"skill": [f"{organization.name} has no skill named {name!r}."]})
    return found


def _is_admin(organization: Organization, user: AbstractBaseUser | None) -> bool:
    return bool(
        user is not None
        and OrganizationMember.objects.filter(
            organization=organization, user_id=user.pk, is_admin=True
        ).exists()
    )


# --- the organization's list ------------------------------------------------------------------


@transaction.atomic
def skill_create(
    *, organization: Organization, name: str, description: str = "", actor: AbstractBaseUser
) -> Skill:
    name = _clean_skill_name(name)
    if Skill.objects.filter(organization=organization, name=name).exists():
        raise ValidationError({"name": [f"{organization.name} has the skill {name} already."]})
    skill = Skill.objects.create(
        organization=organization, name=name, description=(description or "").strip()[:200]
    )
    audit_record(
        actor=actor,
        action=AuditAction.SKILL_CREATED,
        organization=organization,
        summary=f"Added the skill {name}",
    )
    return skill


# --- a person's profile and skills ------------------------------------------------------------


def profile_of(*, user: AbstractBaseUser) -> Profile:
    return Profile.objects.get_or_create(user_id=user.pk)[0]


@transaction.atomic
def profile_update(
    *,
    user: AbstractBaseUser,
    display_name: str | None = None,
    languages: object = None,
    time_zone: str | None = None,
) -> Profile:
    """The person's own display name, languages and time zone (each optional)."""
    profile = Profile.objects.select_for_update().get_or_create(user_id=user.pk)[0]
    errors: dict[str, list[str]] = {}
    updates: dict = {}
    if display_name is not None:
        updates["display_name"] = " ".join(str(display_name).split())[:150]
    if languages is not None:
        try:
            updates["languages"] = clean_languages(languages)
        except ValidationError as error:
            errors.update(error.message_dict)
    if time_zone is not None:
        zone = str(time_zone).strip()
        if zone and zone not in zoneinfo.available_timezones():
            errors["time_zone"] = [f"{zone!r} is not a time zone (e.g. Europe/Lisbon)."]
        updates["time_zone"] = zone
    if errors:
        raise ValidationError(errors)
    before = {key: getattr(profile, key) for key in updates}
    changes = changed_fields(before, updates)
    if changes:
        for key, value in updates.items():
            setattr(profile, key, value)
        profile.save()
        for member in OrganizationMember.objects.filter(user_id=user.pk).select_related(
            "organization"
        ):
            audit_record(
                actor=user,
                action=AuditAction.PROFILE_CHANGED,
                organization=member.organization,
                summary=f"{user.get_username()} changed their profile",
                changes=changes,
            )
    return profile


@transaction.atomic
def person_skill_set(
    *,
    organization: Organization,
    user: AbstractBaseUser,
    skill: str,
    level: object,
    actor: AbstractBaseUser,
) -> PersonSkill:
    """Set a member's level in one of the organization's skills.

    Set by the person themselves it is self-declared (a changed level loses a verification); set
    by an admin of the organization it is verified by that admin.
    """
    if not OrganizationMember.objects.filter(organization=organization, user_id=user.pk).exists():
        raise ValidationError({"user": ["That person is not a member of the organization."]})
    found = _skill(organization, skill)
    value = level_from(level)
    by_admin = actor.pk != user.pk
    if by_admin and not _is_admin(organization, actor):
        raise ValidationError({"user": ["Only admins set other people's skills."]})
    held = PersonSkill.objects.select_for_update().filter(skill=found, user_id=user.pk).first()
    before = held.level if held else None
    if held is None:
        held = PersonSkill(skill=found, user_id=user.pk, level=value)
    elif held.level == value and not by_admin:
        return held
    held.level = value
    if by_admin:
        held.verification, held.verified_by, held.verified_project = Verification.ADMIN, actor, None
        held.verified_at = timezone.now()
    elif before != value:
        held.verification, held.verified_by, held.verified_project = Verification.SELF, None, None
        held.verified_at = None
    held.save()
    audit_record(
        actor=actor,
        action=AuditAction.PERSON_SKILL_CHANGED,
        organization=organization,
        summary=f"{user.get_username()}: {found.name} {SkillLevel(value).label.lower()}"
        + (" (verified)" if by_admin else " (self-declared)"),
        changes={
            "user": user.get_username(),
            "skill": found.name,
            "level": {"from": before, "to": value},
        },
    )
    return held


@transaction.atomic
def person_skill_remove(
    *, organization: Organization, user: AbstractBaseUser, skill: str, actor: AbstractBaseUser
) -> None:
    found = _skill(organization, skill)
    if actor.pk != user.pk and not _is_admin(organization, actor):
        raise ValidationError({"user": ["Only admins change other people's skills."]})
    deleted, _ = PersonSkill.objects.filter(skill=found, user_id=user.pk).delete()
    if deleted:
        audit_record(
            actor=actor,
            action=AuditAction.PERSON_SKILL_CHANGED,
            organization=organization,
            summary=f"{user.get_username()}: {found.name} removed",
            changes={"user": user.get_username(), "skill": found.name, "level": {"to": None}},
        )


@transaction.atomic
def person_skill_verify(
    *,
    organization: Organization,
    user: AbstractBaseUser,
    skill: str,
    actor: AbstractBaseUser | None,
    project: Project | None = None,
) -> PersonSkill:
    """Vouch for the level a person declared: by an admin (``actor``), or by a qualification
    passed on ``project`` (then ``actor`` may be None)."""
    found = _skill(organization, skill)
    if project is None and not _is_admin(organization, actor):
        raise ValidationError({"user": ["Only admins verify skills."]})
    held = PersonSkill.objects.select_for_update().filter(skill=found, user_id=user.pk).first()
    if held is None:
        raise ValidationError({"skill": [f"{user.get_username()} has not declared {found.name}."]})
    held.verification = Verification.QUALIFICATION if project else Verification.ADMIN
    held.verified_by = None if project else actor
    held.verified_project = project
    held.verified_at = timezone.now()
    held.save()
    how = f"the qualification of {project.name}" if project else actor.get_username()
    audit_record(
        actor=actor,
        action=AuditAction.PERSON_SKILL_VERIFIED,
        organization=organization,
        summary=f"{user.get_username()}: {found.name} verified by {how}",
        changes={"user": user.get_username(), "skill": found.name},
    )
    return held


# --- what a project asks for ------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    skill: str
    level: int = SkillLevel.WORKING
    verified_only: bool = False


@transaction.atomic
def project_requirements_set(
    *,
    project: Project,
    needs: list[Need],
    languages: object,
    is_open: bool,
    actor: AbstractBaseUser,
) -> Project:
    """Replace what the project asks of contributors, and whether it is open to join."""
    organization = project.organization
    errors: dict[str, list[str]] = {}
    rows = []
    seen = set()
    for number, need in enumerate(needs, 1):
        try:
            skill = _skill(organization, need.skill)
            level = level_from(need.level)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(f"skills.{number - 1}.{key}", []).extend(messages)
            continue
        if skill.pk in seen:
            errors[f"skills.{number - 1}.skill"] = [f"{skill.name} is asked for twice."]
            continue
        seen.add(skill.pk)
        rows.append(
            ProjectRequirement(
                project=project,
                skill=skill,
                min_level=level,
                verified_only=bool(need.verified_only),
            )
        )
    try:
        languages = clean_languages(languages or [])
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    project = Project.objects.select_for_update().get(pk=project.pk)
    before = _requirements_words(project)
    ProjectRequirement.objects.filter(project=project).delete()
    ProjectRequirement.objects.bulk_create(rows)
    project.languages, project.is_open = languages, bool(is_open)
    project.save(update_fields=["languages", "is_open", "updated_at"])
    after = _requirements_words(project)
    if before != after:
        audit_record(
            actor=actor,
            action=AuditAction.REQUIREMENTS_CHANGED,
            project=project,
            summary=f"Requirements: {after['words']}",
            changes=changed_fields(before, after),
        )
    return project


def _needs_words(project: Project) -> str:
    needs = [
        f"{r.skill.name} ≥ {r.get_min_level_display().lower()}"
        + (" (verified)" if r.verified_only else "")
        for r in project.requirements.all()
    ]
    languages = list(project.languages or [])
    return ", ".join(needs + [f"speaks {code}" for code in languages]) or "nothing in particular"


def _requirements_words(project: Project) -> dict:
    words = _needs_words(project) + ("; open to join" if project.is_open else "")
    return {"words": words, "open": project.is_open}


def requirements_of(project: Project) -> list[ProjectRequirement]:
    return list(ProjectRequirement.objects.filter(project=project).select_related("skill"))


def people_matching(
    *,
    organization: Organization,
    needs: list[Need] | None = None,
    languages: list[str] | None = None,
) -> QuerySet:
    """The organization's members who meet every need and speak every language."""
    users = get_user_model().objects.filter(
        organization_memberships__organization=organization, is_active=True
    )
    for need in needs or []:
        held = Q(
            skills__skill__organization=organization,
            skills__skill__name=need.skill,
            skills__level__gte=need.level,
        )
        if need.verified_only:
            held &= ~Q(skills__verification=Verification.SELF)
        users = users.filter(pk__in=get_user_model().objects.filter(held).values("pk"))
    for code in languages or []:
        users = users.filter(pk__in=_speakers(organization, code))
    return users.distinct().order_by("username")


def _speakers(organization: Organization, code: str) -> list[int]:
    """Members whose profile lists ``code`` (a JSON list is matched here, not in SQL: SQLite
    has no containment lookup on JSON); ``de`` also matches ``de-CH``."""
    rows = Profile.objects.filter(
        user__organization_memberships__organization=organization
    ).values_list("user_id", "languages")
    return [user_id for user_id, spoken in rows if _speaks(spoken or [], code)]


def project_needs(project: Project) -> list[Need]:
    return [
        Need(skill=r.skill.name, level=r.min_level, verified_only=r.verified_only)
        for r in requirements_of(project)
    ]


def _speaks(spoken: list[str], code: str) -> bool:
    return any(lang == code or lang.startswith(f"{code}-") for lang in spoken)


def open_projects_for(*, user: AbstractBaseUser) -> list[Project]:
    """Open projects of the person's organizations where they neither label nor review (a
    reviewer labeling the work they check would judge their own answers) and whose requirements
    they meet. One query when there are none; four when there are."""
    if not user.is_authenticated:
        return []
    candidates = list(
        Project.objects.filter(
            is_open=True,
            archived_at__isnull=True,
            organization__members__user_id=user.pk,
        )
        .exclude(
            pk__in=ProjectMember.objects.filter(
                user_id=user.pk, role__in=[Role.CONTRIBUTOR, Role.REVIEWER]
            ).values("project")
        )
        .select_related("organization")
        .prefetch_related("requirements__skill")
        .order_by("organization__name", "name")
    )
    if not candidates:
        return []
    held = {
        ps.skill_id: ps
        for ps in PersonSkill.objects.filter(
            user_id=user.pk, skill__organization_id__in={p.organization_id for p in candidates}
        )
    }
    spoken = Profile.objects.filter(user_id=user.pk).values_list("languages", flat=True).first()
    out = []
    for project in candidates:
        needs = list(project.requirements.all())
        fits = all(
            r.skill_id in held
            and held[r.skill_id].level >= r.min_level
            and not (r.verified_only and held[r.skill_id].verification == Verification.SELF)
            for r in needs
        ) and all(_speaks(spoken or [], code) for code in project.languages or [])
        if fits:
            project.needs_words = _needs_words(project)
            out.append(project)
    return out


@transaction.atomic
def project_join_open(*, project: Project, user: AbstractBaseUser) -> ProjectMember:
    """Join an open project as a contributor (only someone it is offered to may)."""
    if project not in open_projects_for(user=user):
        raise ValidationError({"project": ["This project is not open to you."]})
    member = ProjectMember.objects.create(project=project, user_id=user.pk, role=Role.CONTRIBUTOR)
    audit_record(
        actor=user,
        action=AuditAction.PROJECT_JOINED,
        project=project,
        summary=f"{user.get_username()} joined as contributor (open project)",
        changes={"user": user.get_username(), "role": {"from": None, "to": Role.CONTRIBUTOR}},
    )
    return member


@transaction.atomic
def project_contributors_add(
    *, project: Project, user_ids: list[int], actor: AbstractBaseUser
) -> list[ProjectMember]:
    """Managers add several of the organization's people as contributors at once."""
    users = list(
        get_user_model().objects.filter(
            pk__in=user_ids, organization_memberships__organization_id=project.organization_id
        )
    )
    if len(users) != len(set(user_ids)):
        raise ValidationError({"people": ["Choose members of the organization only."]})
    taken = set(
        ProjectMember.objects.filter(project=project, role=Role.CONTRIBUTOR).values_list(
            "user_id", flat=True
        )
    )
    added = []
    for user in users:
        if user.pk in taken:
            continue
        added.append(
            ProjectMember.objects.create(project=project, user=user, role=Role.CONTRIBUTOR)
        )
        audit_record(
            actor=actor,
            action=AuditAction.MEMBER_ADDED,
            project=project,
            summary=f"{user.get_username()} added as contributor",
            changes={"user": user.get_username(), "role": {"from": None, "to": Role.CONTRIBUTOR}},
        )
    return added
