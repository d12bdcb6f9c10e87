"""Writes of the core domain: projects and their members.

Every function validates first (raising :class:`django.core.exceptions.ValidationError` keyed by
field, or by path inside ``schema`` as ``schema.labels.2.hotkey``) and then writes inside one
transaction. Pages and the API call these same functions, so they refuse the same things with the
same words.
"""

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

import kinds
from labelhub.audit import audit_record, changed_fields
from labelhub.events import queue_order_changed
from labelhub.models import (
    AuditAction,
    Organization,
    OrganizationMember,
    Project,
    ProjectMember,
    Role,
)
from labelhub.quality_bars import default_quality, quality_clean

NAME_MAX = 200
logger = logging.getLogger(__name__)
INSTRUCTIONS_MAX = 50_000


def _prefixed(error: ValidationError, prefix: str) -> ValidationError:
    """The same errors with each path put under ``prefix`` (``labels.0`` → ``schema.labels.0``)."""
    out: dict[str, list[str]] = {}
    for key, messages in error.message_dict.items():
        path = prefix if key in ("__all__", prefix) else f"{prefix}.{key}"
        out.setdefault(path, []).extend(messages)
    return ValidationError(out)


def _clean_name(*, organization: Organization, name: object, exclude_pk: int | None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": ["Give the project a name."]})
    name = " ".join(name.split())
    if len(name) > NAME_MAX:
        raise ValidationError({"name": [f"A project name has at most {NAME_MAX} characters."]})
    clash = Project.objects.filter(organization=organization, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": [f"{organization.name} already has a project named this."]})
    return name


def _clean_instructions(instructions: object) -> str:
    if not isinstance(instructions, str):
        raise ValidationError({"instructions": ["Instructions are Markdown text."]})
    if len(instructions) > INSTRUCTIONS_MAX:
        raise ValidationError(
            {"instructions": [f"Instructions have at most {INSTRUCTIONS_MAX} characters."]}
        )
    return instructions.replace("\r\n", "\n")


def project_get_or_create(
    *, user: AbstractBaseUser, organization: Organization, name: str, **values: Any
) -> tuple[Project, bool]:
    """The caller's project named ``name`` in ``organization`` (any case), or a new one made by
    :func:`project_create`; the flag says whether it was created. Safe to run twice at once: the
    name is unique in the organization, so one insert wins and the other caller gets its
    project back. A project of that name on which the caller has no role is a name clash, as
    for :func:`project_create`. The settings of a found project are left as they are."""

    def named() -> Project | None:
        return (
            Project.objects.filter(
                organization=organization,
                name__iexact=" ".join(str(name).split()),
                members__user_id=user.pk,
            )
            .distinct()
            .first()
        )

    if (found := named()) is not None:
        return found, False
    try:
        with transaction.atomic():
            return project_create(user=user, organization=organization, name=name, **values), True
    except (IntegrityError, ValidationError):
        # Another request made it between the look and the insert: theirs is the one.
        if (found := named()) is not None:
            return found, False
        raise


def organizations_where_admin(*, user: AbstractBaseUser) -> list[Organization]:
    """The organizations in which ``user`` may create projects."""
    return list(
        Organization.objects.filter(members__user_id=user.pk, members__is_admin=True).order_by(
            "name"
        )
    )


@transaction.atomic
def project_create(
    *,
    user: AbstractBaseUser,
    organization: Organization,
    name: str,
    kind: str,
    schema: dict | None = None,
    quality: dict | None = None,
    instructions: str = "",
) -> Project:
    """Create a project in ``organization``; ``user`` (an admin there) becomes its manager.

    ``schema`` defaults to the kind's starting schema and ``quality`` to the default bars.
    """
    is_admin = OrganizationMember.objects.filter(
        organization=organization, user_id=user.pk, is_admin=True
    ).exists()
    if not is_admin:
        raise ValidationError(
            {"organization": ["Only administrators of the organization create projects."]}
        )
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    try:
        cleaned["name"] = _clean_name(organization=organization, name=name, exclude_pk=None)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        cleaned["instructions"] = _clean_instructions(instructions)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        task_kind = kinds.get(kind if isinstance(kind, str) else "")
    except ValidationError as error:
        errors.update(error.message_dict)
        task_kind = None
    try:
        cleaned["quality"] = quality_clean(
            quality or {}, kind=task_kind.name if task_kind else None
        )
    except ValidationError as error:
        errors.update(_prefixed(error, "quality").message_dict)
    if task_kind is not None:
        try:
            cleaned["schema"] = task_kind.clean_schema(
                task_kind.default_schema() if schema is None else schema
            )
        except ValidationError as error:
            errors.update(_prefixed(error, "schema").message_dict)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            project = Project.objects.create(
                organization=organization,
                name=cleaned["name"],
                kind=kind,
                schema=cleaned["schema"],
                quality=cleaned["quality"],
                instructions=cleaned["instructions"],
                created_by_id=user.pk,
            )
    except IntegrityError:  # a concurrent create took the name between check and insert
        raise ValidationError(
            {"name": [f"{organization.name} already has a project named this."]}
        ) from None
    ProjectMember.objects.create(project=project, user_id=user.pk, role=Role.MANAGER)
    audit_record(
        actor=user,
        action=AuditAction.PROJECT_CREATED,
        project=project,
        summary=f"Created {project.name} ({project.kind})",
    )
    return project


UPDATABLE = ("name", "kind", "schema", "quality", "instructions")


@transaction.atomic
def project_update(
    *, project: Project, actor: AbstractBaseUser | None = None, **changes: object
) -> Project:
    """Change any of ``name, kind, schema, quality, instructions``; validate all, then save.

    The kind can change only while the project has no tasks (their data was checked against the old
    kind); a new kind without a schema starts from the new kind's default schema. ``quality`` may be
    partial: missing bars keep their current values. Each part that really changes is written to
    the audit log (by ``actor``) in the same transaction.
    """
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValidationError({key: ["Not a setting of a project."] for key in sorted(unknown)})
    project = Project.objects.select_for_update().get(pk=project.pk)
    errors: dict[str, list[str]] = {}
    updates: dict = {}
    if "name" in changes:
        try:
            updates["name"] = _clean_name(
                organization=project.organization, name=changes["name"], exclude_pk=project.pk
            )
        except ValidationError as error:
            errors.update(error.message_dict)
    kind_name = project.kind
    if "kind" in changes and changes["kind"] != project.kind:
        try:
            if not isinstance(changes["kind"], str):
                raise ValidationError({"kind": ["Choose a task kind."]})
            kinds.get(changes["kind"])
            if project.tasks.exists():
                raise ValidationError(
                    {"kind": ["The kind cannot change once the project has tasks."]}
                )
            kind_name = updates["kind"] = changes["kind"]
            if "schema" not in changes:
                updates["schema"] = kinds.get(kind_name).default_schema()
        except ValidationError as error:
            errors.update(error.message_dict)
    if "schema" in changes and "kind" not in errors:
        try:
            updates["schema"] = kinds.get(kind_name).clean_schema(changes["schema"])
        except ValidationError as error:
            errors.update(_prefixed(error, "schema").message_dict)
    if ("quality" in changes or "kind" in updates) and "kind" not in errors:
        quality = changes.get("quality", {})
        # Stored bars the (new) kind does not read are dropped, not refused: another kind's bars
        # after a change of kind, or a bar an older version stored for every kind.
        known = default_quality(kind_name)
        stored = {key: value for key, value in (project.quality or {}).items() if key in known}
        try:
            if not isinstance(quality, dict):
                raise ValidationError({"__all__": ["The quality bars must be a JSON object."]})
            updates["quality"] = quality_clean({**stored, **quality}, kind=kind_name)
        except ValidationError as error:
            errors.update(_prefixed(error, "quality").message_dict)
    if "instructions" in changes:
        try:
            updates["instructions"] = _clean_instructions(changes["instructions"])
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    before = {field: getattr(project, field) for field in updates}
    for field, value in updates.items():
        setattr(project, field, value)
    if updates:
        project.save(update_fields=[*updates, "updated_at"])
        _audit_project_update(actor=actor, project=project, before=before, after=updates)
        old_order = (before.get("quality") or {}).get("queue_order", "priority")
        if "quality" in updates and updates["quality"]["queue_order"] != old_order:
            queue_order_changed(project_id=project.pk)
    return project


def _audit_project_update(
    *, actor: AbstractBaseUser | None, project: Project, before: dict, after: dict
) -> None:
    general = {k: v for k, v in after.items() if k in ("name", "kind", "instructions")}
    if "schema" in after and after["schema"] != before["schema"]:
        audit_record(
            actor=actor,
            action=AuditAction.SCHEMA_CHANGED,
            project=project,
            summary="Schema changed",
            changes=changed_fields(before["schema"] or {}, after["schema"] or {}),
        )
    if "quality" in after and after["quality"] != before["quality"]:
        audit_record(
            actor=actor,
            action=AuditAction.QUALITY_CHANGED,
            project=project,
            summary="Quality bars changed",
            changes=changed_fields(before["quality"] or {}, after["quality"] or {}),
        )
    changes = changed_fields({k: before[k] for k in general}, general)
    if changes:
        if "instructions" in changes:  # long text: record that it changed, not both copies
            changes["instructions"] = {"from": "…", "to": "…"}
        audit_record(
            actor=actor,
            action=AuditAction.PROJECT_CHANGED,
            project=project,
            summary="Changed " + ", ".join(sorted(changes)),
            changes=changes,
        )


def _clean_role(role: object) -> str:
    if role not in Role.values:
        raise ValidationError({"role": ["The role is manager, reviewer or contributor."]})
    return str(role)


@transaction.atomic
def project_member_add(
    *, project: Project, username: str, role: str, actor: AbstractBaseUser | None = None
) -> ProjectMember:
    """Give a member of the project's organization a role on the project."""
    errors: dict[str, list[str]] = {}
    try:
        role = _clean_role(role)
    except ValidationError as error:
        errors.update(error.message_dict)
    user = None
    if not isinstance(username, str) or not username.strip():
        errors["username"] = ["Give a username."]
    else:
        user = (
            get_user_model()
            .objects.filter(
                username=username.strip(),
                organization_memberships__organization_id=project.organization_id,
            )
            .first()
        )
        if user is None:
            errors["username"] = [
                f"No member of {project.organization.name} has the username {username.strip()!r}."
            ]
        elif ProjectMember.objects.filter(project=project, user=user, role=role).exists():
            # Another role is fine (a manager who also labels); the same one twice is not.
            errors["username"] = [f"{user.get_username()} is already a {role} on this project."]
    if errors:
        raise ValidationError(errors)
    member = ProjectMember.objects.create(project=project, user=user, role=role)
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_ADDED,
        project=project,
        summary=f"{user.get_username()} added as {role}",
        changes={"user": user.get_username(), "role": {"from": None, "to": role}},
    )
    return member


def _check_keeps_a_manager(*, project: Project, leaving: ProjectMember) -> None:
    """Refuse a change that would leave the project without any manager.

    The caller holds a lock on the project's manager rows (taken here with ``select_for_update``).
    """
    managers = list(
        ProjectMember.objects.select_for_update()
        .filter(project=project, role=Role.MANAGER)
        .values_list("pk", flat=True)
    )
    if managers == [leaving.pk]:
        raise ValidationError(
            {"role": ["A project keeps at least one manager: make someone else manager first."]}
        )


@transaction.atomic
def project_member_set_role(
    *, member: ProjectMember, role: str, actor: AbstractBaseUser | None = None
) -> ProjectMember:
    role = _clean_role(role)
    if member.role == Role.MANAGER and role != Role.MANAGER:
        _check_keeps_a_manager(project=member.project, leaving=member)
    previous = member.role
    if previous == role:
        return member
    if ProjectMember.objects.filter(project=member.project, user=member.user, role=role).exists():
        raise ValidationError(
            {"role": [f"{member.user.get_username()} is already a {role} on this project."]}
        )
    member.role = role
    member.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_ROLE_CHANGED,
        project=member.project,
        summary=f"{member.user.get_username()}: {previous} → {role}",
        changes={"user": member.user.get_username(), "role": {"from": previous, "to": role}},
    )
    return member


@transaction.atomic
def project_member_remove(*, member: ProjectMember, actor: AbstractBaseUser | None = None) -> None:
    if member.role == Role.MANAGER:
        _check_keeps_a_manager(project=member.project, leaving=member)
    username = member.user.get_username()
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_REMOVED,
        project=member.project,
        summary=f"{username} removed (was {member.role})",
        changes={"user": username, "role": {"from": member.role, "to": None}},
    )
    member.delete()


# --- archive, duplicate, delete ----------------------------------------------------------------


@transaction.atomic
def project_archive(*, project: Project, actor: AbstractBaseUser | None) -> Project:
    """Archive a project: it leaves contributors' home and the queue hands out no more of it.

    Nothing is lost: answers, leases in progress and exports stay; ``project_unarchive`` undoes it.
    """
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.archived_at is None:
        project.archived_at = timezone.now()
        project.save(update_fields=["archived_at", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.PROJECT_ARCHIVED,
            project=project,
            summary=f"Archived {project.name}",
        )
    return project


@transaction.atomic
def project_unarchive(*, project: Project, actor: AbstractBaseUser | None) -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.archived_at is not None:
        project.archived_at = None
        project.save(update_fields=["archived_at", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.PROJECT_UNARCHIVED,
            project=project,
            summary=f"Unarchived {project.name}",
        )
    return project


def _copy_name(project: Project) -> str:
    taken = set(
        Project.objects.filter(
            organization_id=project.organization_id, name__istartswith=project.name[:150]
        ).values_list("name", flat=True)
    )
    taken = {name.lower() for name in taken}
    base = f"{project.name[: NAME_MAX - 12]} (copy"
    for n in range(1, 1000):
        name = f"{base})" if n == 1 else f"{base} {n})"
        if name.lower() not in taken:
            return name
    return f"{base} {timezone.now():%Y%m%d%H%M%S})"


@transaction.atomic
def project_duplicate(
    *, project: Project, actor: AbstractBaseUser, name: str | None = None
) -> Project:
    """A new project with this one's settings (kind, schema, quality bars, instructions) and its
    people in their roles, but no tasks. Creating a project is for organization admins, so is this.

    ``name`` defaults to "<name> (copy)". The actor becomes a manager of the copy.
    """
    copy = project_create(
        user=actor,
        organization=project.organization,
        name=name if name is not None else _copy_name(project),
        kind=project.kind,
        schema=project.schema,
        quality=project.quality,
        instructions=project.instructions,
    )
    members = ProjectMember.objects.filter(project=project).exclude(user_id=actor.pk)
    ProjectMember.objects.bulk_create(
        ProjectMember(project=copy, user_id=user_id, role=role)
        for user_id, role in members.values_list("user_id", "role")
    )
    audit_record(
        actor=actor,
        action=AuditAction.PROJECT_DUPLICATED,
        project=copy,
        summary=f"Copied the settings and people of {project.name} (no tasks)",
        changes={"from_project": project.pk},
    )
    return copy


def _delete_stored_files(prefix: str) -> None:
    """Remove every stored file under ``prefix`` (media, thumbnails, imports, exports)."""
    storage = default_storage
    try:
        folders, files = storage.listdir(prefix)
    except (FileNotFoundError, NotImplementedError, OSError):
        return
    for name in files:
        try:
            storage.delete(f"{prefix}/{name}")
        except OSError:
            logger.warning("Could not delete %s/%s", prefix, name)
    for folder in folders:
        _delete_stored_files(f"{prefix}/{folder}")


def project_delete(*, project: Project, actor: AbstractBaseUser | None, confirmation: str) -> None:
    """Delete a project and all its data (tasks, answers, reviews, exports, files) at once.

    ``confirmation`` must be the project's name, typed out. The audit trail stays: its rows lose
    the link to the project (``project`` becomes null) but keep its name, and one more row says
    who deleted it. Stored files go once the deletion has committed.
    """
    if not isinstance(confirmation, str) or confirmation.strip() != project.name:
        raise ValidationError(
            {"confirmation": [f"Type the project's name, {project.name}, to delete it."]}
        )
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        task_count = project.tasks.count()
        audit_record(
            actor=actor,
            action=AuditAction.PROJECT_DELETED,
            project=project,
            summary=f"Deleted {project.name} with its {task_count} tasks",
            changes={"tasks": task_count, "kind": project.kind},
        )
        prefix = f"projects/{project.pk}"
        project.delete()
        transaction.on_commit(lambda: _delete_stored_files(prefix))
