"""Protection from distressing content: categories, opt-outs and the organization's policy.

A content category (violence, self-harm, …) is one bit of a 64-bit integer. Every organization
has the five built-ins (:data:`BUILT_IN`, bits 0–4, no rows); it may add its own
(:class:`~labelhub.models.ContentCategory`, bits 5–62). So a project's categories
(``Project.content_flags``), a task's own (``Task.content_flags``) and the categories a person
will not be shown (``OrganizationMember.content_opt_outs``) are each one integer, and the queue
keeps a person away from a category with one ``&`` in its claim (see :mod:`annotation.queue`).

A task is *sensitive* when it or its project carries any category. The project's categories are
not copied onto its tasks: the claim tests the project once, in Python, before it looks for a
task, so changing a project's categories touches one row, and a task keeps the categories it
was imported with whatever its project later says.

The organization's policy caps the minutes of sensitive work per person per day
(``sensitive_minutes_per_day``, 0 for no cap) and suggests a break after
``sensitive_break_after`` sensitive tasks in a row (0: never).
"""

import re
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Subquery, Value
from django.db.models.functions import Coalesce

from labelhub.audit import audit_record
from labelhub.models import (
    AuditAction,
    ContentCategory,
    Organization,
    OrganizationMember,
    Project,
)


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    bit: int
    built_in: bool

    @property
    def flag(self) -> int:
        return 1 << self.bit


BUILT_IN = (
    Category("violence", "Violence", 0, True),
    Category("sexual-content", "Sexual content", 1, True),
    Category("self-harm", "Self-harm", 2, True),
    Category("hate", "Hate", 3, True),
    Category("medical-imagery", "Medical imagery", 4, True),
)
FIRST_OWN_BIT, LAST_BIT = 5, 62
# Every category at once: what a person who reached the daily cap is kept from.
ALL_CATEGORIES = (1 << (LAST_BIT + 1)) - 1
CATEGORY_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_MINUTES_PER_DAY = 24 * 60
MAX_BREAK_AFTER = 1000


def categories_of(organization: Organization | int) -> list[Category]:
    """The built-ins, then the organization's own, in bit order."""
    org_id = organization if isinstance(organization, int) else organization.pk
    own = ContentCategory.objects.filter(organization_id=org_id).values_list("name", "label", "bit")
    return [*BUILT_IN, *(Category(name, label, bit, False) for name, label, bit in own)]


def names_of(flags: int, categories: list[Category]) -> list[str]:
    return [c.name for c in categories if flags & c.flag]


def labels_of(flags: int, categories: list[Category]) -> list[str]:
    return [c.label for c in categories if flags & c.flag]


def content_labels(*, flags: int, organization_id: int) -> list[str]:
    """A task's categories in words; built-in ones cost no query."""
    built_in_only = not flags & ~sum(c.flag for c in BUILT_IN)
    categories = list(BUILT_IN) if built_in_only else categories_of(organization_id)
    return labels_of(flags, categories)


def content_display(*, project, task) -> dict:
    """How a task's content is shown to anyone who opens it (contributor or reviewer): its
    categories in words, and whether its images are blurred (else its text is hidden) until
    revealed. Empty for plain work, without a query."""
    flags = task.content_flags | project.content_flags
    if not flags:
        return {}
    return {
        "sensitive": content_labels(flags=flags, organization_id=project.organization_id),
        "sensitive_visual": project.task_kind.shows_images(task.data),
    }


def content_choices(*, categories: list[Category], flags: int) -> list[tuple[Category, bool]]:
    """Each category with whether ``flags`` holds it: the checkboxes of the pages."""
    return [(c, bool(flags & c.flag)) for c in categories]


def tasks_not_opted_out(tasks, *, project: Project, user: AbstractBaseUser):
    """``tasks`` (a queryset of one project's tasks) without those whose categories, their own
    or the project's, the person opted out of: what every path that shows a task's content to a
    contributor or a reviewer goes through (the queue has its own SQL, see annotation.queue).

    The person's opt-outs are read in the same statement (a subquery), so a page that lists
    tasks makes no more queries for it."""
    opted_out = Coalesce(
        Subquery(
            OrganizationMember.objects.filter(
                organization_id=project.organization_id, user_id=user.pk
            ).values("content_opt_outs")[:1]
        ),
        Value(0),
        output_field=models.BigIntegerField(),
    )
    flags = F("content_flags").bitor(Value(project.content_flags))
    return tasks.alias(opted_out_hit=flags.bitand(opted_out)).filter(opted_out_hit=0)


def opted_out_of(*, task, project: Project, user: AbstractBaseUser) -> bool:
    """Whether the person opted out of one of the task's categories (its own or the project's):
    one task's check, for the paths that show one task by its id (its media, its preview, an
    appeal or an audit of it). No query for a task without categories."""
    flags = task.content_flags | project.content_flags
    if not flags:
        return False
    opted_out = (
        OrganizationMember.objects.filter(organization_id=project.organization_id, user_id=user.pk)
        .values_list("content_opt_outs", flat=True)
        .first()
    )
    return bool(flags & (opted_out or 0))


def opted_out_anything(*, organization_id: int, user_id: int) -> bool:
    return OrganizationMember.objects.filter(
        organization_id=organization_id, user_id=user_id, content_opt_outs__gt=0
    ).exists()


def flags_from(names: object, categories: list[Category], *, field: str) -> int:
    """The bits of a list of category names; an unknown name is a ``ValidationError`` on
    ``field`` that lists the known ones."""
    if names is None:
        return 0
    if isinstance(names, str):
        names = [part for part in re.split(r"[\s,;]+", names) if part]
    if not isinstance(names, list | tuple):
        raise ValidationError({field: ["A list of content category names."]})
    by_name = {c.name: c for c in categories}
    flags = 0
    for name in names:
        found = by_name.get(str(name).strip().lower())
        if found is None:
            known = ", ".join(by_name)
            raise ValidationError(
                {field: [f"{name!r} is not a content category (known: {known})."]}
            )
        flags |= found.flag
    return flags


def _clean_name(name: object) -> str:
    text = " ".join(str(name or "").split()).lower().replace(" ", "-")
    if not CATEGORY_NAME.match(text):
        raise ValidationError(
            {"name": ["A category is a short name: letters, digits and - (e.g. animal-cruelty)."]}
        )
    return text


@transaction.atomic
def content_category_create(
    *, organization: Organization, name: str, label: str = "", actor: AbstractBaseUser
) -> Category:
    """Add a category of the organization's own, on the lowest free bit (admins; the caller
    checks). Categories are never removed: tasks and people's opt-outs hold their bits."""
    name = _clean_name(name)
    # The organization row is the lock that makes "lowest free bit" safe between two admins.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    known = categories_of(organization)
    if any(c.name == name for c in known):
        raise ValidationError({"name": [f"{organization.name} has the category {name} already."]})
    used = {c.bit for c in known}
    bit = next((b for b in range(FIRST_OWN_BIT, LAST_BIT + 1) if b not in used), None)
    if bit is None:
        raise ValidationError({"name": ["An organization has at most 58 categories of its own."]})
    label = " ".join(str(label or "").split())[:80] or name.replace("-", " ").capitalize()
    try:
        with transaction.atomic():
            ContentCategory.objects.create(
                organization=organization, name=name, label=label, bit=bit
            )
    except IntegrityError:
        raise ValidationError({"name": [f"{name} was just added by someone else."]}) from None
    audit_record(
        actor=actor,
        action=AuditAction.CONTENT_CATEGORIES_CHANGED,
        organization=organization,
        summary=f"Added the content category {name}",
        changes={"category": {"from": None, "to": name}},
    )
    return Category(name, label, bit, False)


@transaction.atomic
def project_content_set(*, project: Project, names: object, actor: AbstractBaseUser) -> Project:
    """Mark a project with content categories (replacing the ones it had; managers, the caller
    checks). One row changes: the tasks' own categories stay as they are."""
    categories = categories_of(project.organization_id)
    flags = flags_from(names, categories, field="content_categories")
    project = Project.objects.select_for_update().select_related("organization").get(pk=project.pk)
    before = project.content_flags
    if flags != before:
        project.content_flags = flags
        project.save(update_fields=["content_flags", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CONTENT_CATEGORIES_CHANGED,
            project=project,
            summary="Content categories: " + (", ".join(names_of(flags, categories)) or "none"),
            changes={
                "content_categories": {
                    "from": names_of(before, categories),
                    "to": names_of(flags, categories),
                }
            },
        )
    return project


@transaction.atomic
def content_opt_outs_set(
    *, organization: Organization, user: AbstractBaseUser, names: object
) -> OrganizationMember:
    """The categories a person will not be shown in this organization (their own choice only).

    Takes effect on their next claim; a task they hold already stays theirs to skip.
    """
    categories = categories_of(organization)
    flags = flags_from(names, categories, field="opted_out")
    member = (
        OrganizationMember.objects.select_for_update()
        .filter(organization=organization, user_id=user.pk)
        .first()
    )
    if member is None:
        raise ValidationError({"user": ["That person is not a member of the organization."]})
    before = member.content_opt_outs
    if flags != before:
        member.content_opt_outs = flags
        member.save(update_fields=["content_opt_outs"])
        audit_record(
            actor=user,
            action=AuditAction.CONTENT_PREFERENCES_CHANGED,
            organization=organization,
            summary=f"{user.get_username()} changed the content they opt out of",
            changes={
                "opted_out": {
                    "from": names_of(before, categories),
                    "to": names_of(flags, categories),
                }
            },
        )
    return member


def _whole(value: object, *, field: str, top: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise ValidationError({field: [f"A whole number from 0 to {top}."]})
    return value


@transaction.atomic
def content_policy_set(
    *,
    organization: Organization,
    actor: AbstractBaseUser,
    sensitive_minutes_per_day: object = None,
    sensitive_break_after: object = None,
) -> Organization:
    """The daily cap of sensitive work and the break suggestion (admins; the caller checks)."""
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    errors: dict[str, list[str]] = {}
    updates: dict[str, int] = {}
    for field, value, top in (
        ("sensitive_minutes_per_day", sensitive_minutes_per_day, MAX_MINUTES_PER_DAY),
        ("sensitive_break_after", sensitive_break_after, MAX_BREAK_AFTER),
    ):
        if value is None:
            continue
        try:
            updates[field] = _whole(value, field=field, top=top)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    changes = {
        key: {"from": getattr(organization, key), "to": value}
        for key, value in updates.items()
        if getattr(organization, key) != value
    }
    if changes:
        for key, value in updates.items():
            setattr(organization, key, value)
        organization.save(update_fields=list(updates))
        if "sensitive_minutes_per_day" in changes:
            # A new cap counts from the next sensitive task: nobody stays paused on the old one.
            OrganizationMember.objects.filter(
                organization=organization, sensitive_paused_until__isnull=False
            ).update(sensitive_paused_until=None)
        audit_record(
            actor=actor,
            action=AuditAction.CONTENT_CATEGORIES_CHANGED,
            organization=organization,
            summary="Changed the limits of sensitive work",
            changes=changes,
        )
    return organization
