"""Invitations: by email (single use) or as a link (a number of uses), each with an expiry.

An invitation's URL carries ``<id>.<secret>``: the secret is 32 random bytes (URL-safe base64),
only its SHA-256 is stored, and the two are compared with :func:`hmac.compare_digest`. A used,
revoked or expired invitation says which, in words (:class:`InvitationUnusable`).

Emails go through Django's email backend once the transaction has committed (console in
``make run``, SMTP when ``EMAIL_HOST`` is set).
"""

import contextlib
import csv
import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from labelhub.audit import audit_record
from labelhub.email_addresses import email_address_mark_verified, email_address_owner
from labelhub.models import (
    AuditAction,
    Invitation,
    InvitationState,
    Organization,
    OrganizationMember,
    Project,
    ProjectMember,
    Role,
)
from people.members import member_add, organization_create

DEFAULT_DAYS = 14
MAX_DAYS = 90
MAX_AT_ONCE = 500
ORG_ROLES = ("member", "admin")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    """A new invitation and its token (``<id>.<secret>``), which exists nowhere else."""

    invitation: Invitation
    token: str


@dataclass(frozen=True)
class InviteRow:
    email: str = ""
    role: str = ""  # a project role, or "admin" / "member" (the organization's)
    project: str = ""  # a project's id or name in the organization
    line: int = 0  # the row's number in its file (a CSV's header is row 1), if it came from one


class InvitationUnusable(Exception):
    """The invitation cannot be used; ``str(error)`` says why, for the person holding it."""


def _project_of(organization: Organization, ref: object) -> Project | None:
    if ref in (None, ""):
        return None
    if isinstance(ref, Project):
        project = ref if ref.organization_id == organization.pk else None
    else:
        text = str(ref).strip()
        projects = Project.objects.filter(organization=organization)
        project = (
            projects.filter(pk=int(text)).first()
            if text.isdigit()
            else projects.filter(name__iexact=text).first()
        )
    if project is None:
        raise ValidationError({"project": [f"{organization.name} has no project {ref}."]})
    return project


def _grant(
    organization: Organization, role: str, project_ref: object
) -> tuple[bool, Project | None, str]:
    """(organization admin?, project, project role) from what an inviter gave."""
    role = (role or "").strip().lower()
    project = _project_of(organization, project_ref)
    if role in ("", "member"):
        return False, project, Role.CONTRIBUTOR if project else ""
    if role == "admin":
        return True, project, Role.MANAGER if project else ""
    if role not in Role.values:
        raise ValidationError(
            {"role": [f"{role!r} is not a role: admin, member, manager, reviewer or contributor."]}
        )
    if project is None:
        raise ValidationError({"project": [f"A {role} role needs a project."]})
    return False, project, role


def _expiry(days: object) -> datetime:
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise ValidationError({"expires_in_days": [f"Between 1 and {MAX_DAYS} days."]})
    return timezone.now() + timedelta(days=days)


def _new(*, organization, actor, **fields) -> Issued:
    secret = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization, created_by=actor, secret_hash=_hash(secret), **fields
    )
    return Issued(invitation=invitation, token=f"{invitation.pk}.{secret}")


def invitation_url(*, base_url: str, token: str) -> str:
    return base_url.rstrip("/") + reverse("people:accept", args=[token])


@transaction.atomic
def organization_create_with_admin(
    *, name: str, admin_email: str, actor: AbstractBaseUser | None, base_url: str, slug: str = ""
) -> tuple[Organization, Issued | None]:
    """A new organization whose first admin is the person who has verified ``admin_email``, or,
    when nobody has, whoever accepts the admin invitation mailed to that address (an account that
    merely says it has the address gets nothing: anyone can type any address)."""
    email = (admin_email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"admin_email": [f"{email!r} is not an email address."]}) from None
    organization = organization_create(name=name, slug=slug, actor=actor)
    owner = email_address_owner(email=email)  # verified addresses only (issue #24)
    if owner is not None:
        member_add(organization=organization, user=owner, is_admin=True, actor=actor)
        return organization, None
    issued = invitation_create_many(
        organization=organization,
        actor=actor,
        rows=[InviteRow(email=email, role="admin")],
        base_url=base_url,
    )
    return organization, issued[0]


@transaction.atomic
def invitation_create_many(
    *,
    organization: Organization,
    actor: AbstractBaseUser | None,
    rows: list[InviteRow],
    base_url: str,
    expires_in_days: int = DEFAULT_DAYS,
    send: bool = True,
) -> list[Issued]:
    """Email invitations, one per row; every row is checked before any is made.

    ``send=False`` makes them without mailing them (the demo's pending invitation).

    Errors name the row (``row 3, email: …``, counted from 1). A person already in the
    organization, or with an invitation still open, is refused by address.
    """
    expires_at = _expiry(expires_in_days)
    if not rows:
        raise ValidationError({"emails": ["Give at least one email address."]})
    if len(rows) > MAX_AT_ONCE:
        raise ValidationError({"emails": [f"At most {MAX_AT_ONCE} invitations at once."]})
    errors: dict[str, list[str]] = {}
    planned = []
    seen: set[str] = set()
    members = {
        email.lower()
        for email in OrganizationMember.objects.filter(organization=organization).values_list(
            "user__email", flat=True
        )
        if email
    }
    now = timezone.now()
    pending = {
        invitation.email.lower()
        for invitation in Invitation.objects.filter(
            organization=organization, revoked_at__isnull=True, expires_at__gt=now, use_count=0
        ).exclude(email="")
    }
    for number, row in enumerate(rows, 1):
        where = f"row {row.line or number}" if len(rows) > 1 or row.line else ""
        email = (row.email or "").strip()
        try:
            try:
                validate_email(email)
            except ValidationError:
                raise ValidationError({"email": [f"{email!r} is not an email address."]}) from None
            if email.lower() in seen:
                raise ValidationError({"email": [f"{email} is in the list twice."]})
            if email.lower() in members:
                raise ValidationError({"email": [f"{email} is a member already."]})
            if email.lower() in pending:
                raise ValidationError(
                    {"email": [f"{email} has an open invitation: revoke it to send a new one."]}
                )
            is_admin, project, role = _grant(organization, row.role, row.project)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(f"{where}, {key}" if where else key, []).extend(messages)
            continue
        seen.add(email.lower())
        planned.append((email, is_admin, project, role))
    if errors:
        raise ValidationError(errors)
    issued = []
    for email, is_admin, project, role in planned:
        made = _new(
            organization=organization,
            actor=actor,
            email=email,
            is_admin=is_admin,
            project=project,
            role=role,
            max_uses=1,
            expires_at=expires_at,
        )
        issued.append(made)
        audit_record(
            actor=actor,
            action=AuditAction.INVITATION_CREATED,
            organization=organization,
            summary=f"Invited {email}" + _grant_words(made.invitation),
            changes={"email": email, "admin": is_admin, "project": _name(project), "role": role},
        )
        url = invitation_url(base_url=base_url, token=made.token)
        if send:
            transaction.on_commit(lambda made=made, url=url: _send(made.invitation, url, actor))
    return issued


@transaction.atomic
def invitation_create_link(
    *,
    organization: Organization,
    actor: AbstractBaseUser,
    role: str = "",
    project: object = None,
    max_uses: int | None = None,
    expires_in_days: int = DEFAULT_DAYS,
) -> Issued:
    """A link anyone holding it may use ``max_uses`` times (no limit when ``None``)."""
    errors: dict[str, list[str]] = {}
    try:
        expires_at = _expiry(expires_in_days)
    except ValidationError as error:
        errors.update(error.message_dict)
    if max_uses is not None and (
        not isinstance(max_uses, int) or isinstance(max_uses, bool) or not 1 <= max_uses <= 10_000
    ):
        errors["max_uses"] = ["Between 1 and 10,000 uses, or none for no limit."]
    try:
        is_admin, project, project_role = _grant(organization, role, project)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    made = _new(
        organization=organization,
        actor=actor,
        is_admin=is_admin,
        project=project,
        role=project_role,
        max_uses=max_uses,
        expires_at=expires_at,
    )
    uses = "no limit of uses" if max_uses is None else f"{max_uses} use{'s' * (max_uses != 1)}"
    audit_record(
        actor=actor,
        action=AuditAction.INVITATION_CREATED,
        organization=organization,
        summary=f"Made an invitation link ({uses})" + _grant_words(made.invitation),
        changes={"link": True, "admin": is_admin, "project": _name(project), "role": project_role},
    )
    return made


def _name(project: Project | None) -> str | None:
    return project.name if project is not None else None


def _grant_words(invitation: Invitation) -> str:
    words = " as an admin" if invitation.is_admin else ""
    if invitation.project_id:
        words += f", {invitation.role} on {invitation.project.name}"
    return words


def _send(invitation: Invitation, url: str, actor: AbstractBaseUser | None) -> None:
    inviter = (actor.get_full_name() or actor.get_username()) if actor else "LabelHub"
    organization = invitation.organization.name
    place = (
        f"to work on {invitation.project.name} as a {invitation.role}"
        if invitation.project_id
        else "to join them"
    )
    body = (
        f"{inviter} invited you to {organization} on LabelHub, {place}.\n\n"
        f"Accept the invitation here:\n\n    {url}\n\n"
        f"It can be used once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC. "
        "If you did not expect it, ignore this email.\n"
    )
    send_mail(
        subject=f"{inviter} invited you to {organization} on LabelHub",
        message=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: AbstractBaseUser | None) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.revoked_at is None and invitation.state != InvitationState.ACCEPTED:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditAction.INVITATION_REVOKED,
            organization=invitation.organization,
            summary=f"Revoked the invitation {_who(invitation)}",
        )
    return invitation


def _who(invitation: Invitation) -> str:
    return f"of {invitation.email}" if invitation.email else f"link #{invitation.pk}"


# --- reading and accepting ------------------------------------------------------------------

TOKEN = re.compile(r"^(\d{1,18})\.([A-Za-z0-9_-]{20,100})$")


def _unusable_words(invitation: Invitation) -> str | None:
    state = invitation.state
    if state == InvitationState.REVOKED:
        return "This invitation was revoked. Ask the person who sent it for a new one."
    if state == InvitationState.ACCEPTED:
        if invitation.is_link:
            return "This invitation link has been used as many times as it allows."
        return "This invitation has been used already. Log in with the account it made."
    if state == InvitationState.EXPIRED:
        return (
            f"This invitation expired on {invitation.expires_at:%Y-%m-%d}. "
            "Ask the person who sent it for a new one."
        )
    return None


def invitation_find(*, token: str, lock: bool = False) -> Invitation:
    """The usable invitation of ``token``; else :class:`InvitationUnusable` saying why."""
    match = TOKEN.match(token or "")
    rows = Invitation.objects.select_related("organization", "project")
    if lock:
        rows = rows.select_for_update(of=("self",))
    invitation = rows.filter(pk=int(match.group(1))).first() if match else None
    given = _hash(match.group(2)) if match else ""
    if invitation is None or not hmac.compare_digest(invitation.secret_hash, given):
        raise InvitationUnusable(
            "This invitation link is not valid. Check that the whole link was copied."
        )
    words = _unusable_words(invitation)
    if words:
        raise InvitationUnusable(words)
    return invitation


def _use(invitation: Invitation, user: AbstractBaseUser) -> Project | None:
    project = invitation.project
    already = OrganizationMember.objects.filter(
        organization=invitation.organization, user=user
    ).exists() and (
        project is None
        or ProjectMember.objects.filter(project=project, user=user, role=invitation.role).exists()
    )
    if already and invitation.is_link:
        return project  # nothing to grant: a link's use is not spent on it
    member_add(
        organization=invitation.organization,
        user=user,
        is_admin=invitation.is_admin,
        project=project,
        role=invitation.role,
        actor=user,
        via=f"invitation {_who(invitation)}",
    )
    invitation.use_count += 1
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["use_count", "accepted_at", "accepted_by"])
    audit_record(
        actor=user,
        action=AuditAction.INVITATION_ACCEPTED,
        organization=invitation.organization,
        summary=f"{user.get_username()} accepted the invitation {_who(invitation)}",
    )
    return project


@transaction.atomic
def invitation_accept(*, token: str, user: AbstractBaseUser) -> Project | None:
    """A signed-in person joins with their own account; the project they were invited to.

    An email invitation proves its address: when it is the person's account email, it becomes
    verified for them (unless someone else has verified it)."""
    invitation = invitation_find(token=token, lock=True)
    if invitation.email and invitation.email.lower() == (user.email or "").lower():
        with contextlib.suppress(ValidationError):
            email_address_mark_verified(user=user, email=invitation.email)
    return _use(invitation, user)


@transaction.atomic
def invitation_accept_verified(*, invitation: Invitation, user: AbstractBaseUser) -> Project | None:
    """The invitation a sign-up waited on, used once its address is confirmed."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    words = _unusable_words(invitation)
    if words:
        raise InvitationUnusable(words)
    return _use(invitation, user)


# --- reading lists of addresses --------------------------------------------------------------

SPLIT = re.compile(r"[\s,;]+")


def rows_from_text(*, text: str, role: str = "", project: object = "") -> list[InviteRow]:
    """A pasted list of addresses (one a line, or separated by commas, semicolons or spaces);
    "Name <address>" is read as the address."""
    text = re.sub(r"[^,;\n<>]*<([^<>]+)>", r" \1 ", text or "")
    return [
        InviteRow(email=part, role=role, project=str(project or ""))
        for part in SPLIT.split(text)
        if part
    ]


def rows_from_csv(*, data: bytes, role: str = "", project: object = "") -> list[InviteRow]:
    """A CSV with a header row: ``email`` and, optionally, ``role`` and ``project`` (an id or
    a name; empty cells take the form's choice)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": ["The CSV file is not UTF-8 text."]}) from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [name.strip().lower() for name in reader.fieldnames or []]
    if "email" not in fields:
        raise ValidationError({"file": ["The CSV needs a header row with an email column."]})
    reader.fieldnames = fields
    return [
        InviteRow(
            email=(record.get("email") or "").strip(),
            role=(record.get("role") or "").strip() or role,
            project=(record.get("project") or "").strip() or str(project or ""),
            line=line,
        )
        for line, record in enumerate(reader, 2)
        if any((value or "").strip() for value in record.values() if isinstance(value, str))
    ]
