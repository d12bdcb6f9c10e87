"""The audit log: one call records one change, inside the caller's transaction."""

from django.contrib.auth.models import AbstractBaseUser

from labelhub.models import AuditAction, AuditEvent, Organization, Project


def changed_fields(before: dict, after: dict) -> dict:
    """``{key: {"from": old, "to": new}}`` for the keys whose values differ."""
    keys = sorted(set(before) | set(after))
    return {
        key: {"from": before.get(key), "to": after.get(key)}
        for key in keys
        if before.get(key) != after.get(key)
    }


def person_name(user) -> str:
    """How the audit log names a person: their username; an account that cannot log in (a model
    backend's version answering as a contributor) by its full name, e.g. "Face finder v2"."""
    if not user.is_active and not user.has_usable_password() and user.get_full_name():
        return user.get_full_name()
    return user.get_username()


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: AuditAction,
    project: Project | None = None,
    organization: Organization | None = None,
    summary: str = "",
    changes: dict | None = None,
) -> AuditEvent:
    if organization is None and project is not None:
        organization = project.organization
    return AuditEvent.objects.create(
        organization=organization,
        project=project,
        project_name=project.name if project is not None else "",
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        summary=summary[:500],
        changes=changes or {},
    )
