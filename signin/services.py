"""Writes of the sign-in app: an organization's provider settings, people signing in (provisioned
just in time), their sessions, and the end of access when the provider stops vouching for someone.
"""

import contextlib
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.text import slugify

from annotation.webhooks import DeliveryRefused
from labelhub.audit import audit_record
from labelhub.email_addresses import email_address_mark_verified, email_address_owner
from labelhub.models import (
    ApiToken,
    AuditAction,
    EmailAddress,
    Organization,
    OrganizationMember,
    Project,
    ProjectMember,
    Role,
)
from labelhub.services import project_member_remove
from people.members import member_add, member_remove, member_set_admin
from signin.models import (
    DomainClaim,
    ProviderConfig,
    ProviderGrant,
    ProviderIdentity,
    ProviderSession,
    ScimPerson,
)
from signin.oidc import (
    ProviderCheck,
    SignInRefused,
    allow_private,
    forget_metadata,
    provider_url_check,
    recheck,
)

log = logging.getLogger(__name__)

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_RULES = 100
#: Mail services where anyone gets an address: no organization may claim them.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "gmail.com",
        "googlemail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "163.com",
        "126.com",
        "web.de",
        "yahoo.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
    }
)
EDITABLE = (
    "enabled",
    "display_name",
    "issuer",
    "client_id",
    "scopes",
    "allowed_domains",
    "groups_claim",
    "role_rules",
    "passwords_off",
    "recheck_minutes",
)


# --- settings ----------------------------------------------------------------------------------


def _clean_domains(value) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[\s,]+", value)
    if not isinstance(value, list):
        raise ValidationError({"allowed_domains": ["A list of email domains, e.g. example.com."]})
    domains = []
    for number, raw in enumerate(value, 1):
        if not isinstance(raw, str):
            raise ValidationError({f"allowed_domains.{number}": ["A domain is text."]})
        domain = raw.strip().lower().removeprefix("@")
        if not domain:
            continue
        if not DOMAIN.match(domain):
            raise ValidationError(
                {f"allowed_domains.{number}": [f"{raw!r} is not a domain like example.com."]}
            )
        if domain not in domains:
            domains.append(domain)
    if not domains:
        raise ValidationError(
            {"allowed_domains": ["Name at least one email domain whose people sign in here."]}
        )
    return domains


def _clean_rules(value, *, organization: Organization) -> list[dict]:
    if not isinstance(value, list):
        raise ValidationError(
            {"role_rules": ["A list of rules, each {group, admin?, project?, role?}."]}
        )
    if len(value) > MAX_RULES:
        raise ValidationError({"role_rules": [f"At most {MAX_RULES} rules."]})
    projects = set(organization.projects.values_list("pk", flat=True))
    rules = []
    for number, rule in enumerate(value, 1):
        where = f"role_rules.{number}"
        if not isinstance(rule, dict):
            raise ValidationError(
                {where: ["A rule is an object {group, admin?, project?, role?}."]}
            )
        unknown = set(rule) - {"group", "admin", "project", "role"}
        if unknown:
            raise ValidationError({where: [f"Unknown keys: {', '.join(sorted(unknown))}."]})
        group = rule.get("group")
        if not isinstance(group, str) or not group.strip():
            raise ValidationError({f"{where}.group": ["Name the provider's group."]})
        clean: dict = {"group": group.strip()}
        admin = rule.get("admin", False)
        if not isinstance(admin, bool):
            raise ValidationError({f"{where}.admin": ["true or false."]})
        if admin:
            clean["admin"] = True
        project, role = rule.get("project"), rule.get("role")
        if project is not None or role is not None:
            if not isinstance(project, int) or isinstance(project, bool) or project not in projects:
                raise ValidationError(
                    {f"{where}.project": [f"No project {project!r} in {organization.name}."]}
                )
            if role not in Role.values:
                raise ValidationError(
                    {f"{where}.role": ["The role is manager, reviewer or contributor."]}
                )
            clean["project"], clean["role"] = project, role
        if len(clean) == 1:
            raise ValidationError(
                {where: ["A rule makes an admin or gives a project role (or both)."]}
            )
        rules.append(clean)
    return rules


def _clean(changes: dict, *, organization: Organization) -> dict:
    clean: dict = {}
    for key, value in changes.items():
        if key == "issuer":
            if not isinstance(value, str) or not value.strip():
                raise ValidationError({"issuer": ["The issuer URL is required."]})
            value = value.strip().rstrip("/")
            try:
                URLValidator(schemes=["https", "http"])(value)
            except ValidationError:
                raise ValidationError({"issuer": [f"{value!r} is not a URL."]}) from None
            if value.startswith("http://") and not settings.DEBUG and not allow_private():
                raise ValidationError({"issuer": ["The issuer must use https."]})
            try:
                provider_url_check(value)
            except DeliveryRefused as refused:
                raise ValidationError({"issuer": [str(refused)]}) from None
        elif key in ("display_name", "client_id", "groups_claim"):
            if not isinstance(value, str) or not value.strip():
                raise ValidationError({key: ["This field is required."]})
            value = value.strip()
            limit = ProviderConfig._meta.get_field(key).max_length
            if len(value) > limit:
                raise ValidationError({key: [f"At most {limit} characters."]})
        elif key == "scopes":
            if isinstance(value, list):
                value = " ".join(str(scope) for scope in value)
            if not isinstance(value, str):
                raise ValidationError({"scopes": ["Scopes separated by spaces."]})
            scopes = value.split()
            if "openid" not in scopes:
                raise ValidationError({"scopes": ["The scopes must include openid."]})
            if "email" not in scopes:
                raise ValidationError({"scopes": ["The scopes must include email."]})
            value = " ".join(dict.fromkeys(scopes))
        elif key == "allowed_domains":
            value = _clean_domains(value)
            public = [domain for domain in value if domain in PUBLIC_MAIL_DOMAINS]
            if public:
                raise ValidationError(
                    {
                        "allowed_domains": [
                            f"{', '.join(public)} is a public mail service: anyone has an "
                            "address there. Name your organization's own domains."
                        ]
                    }
                )
            taken = (
                DomainClaim.objects.exclude(organization=organization)
                .filter(domain__in=value, verified_at__isnull=False)
                .select_related("organization")
                .first()
            )
            if taken is not None:
                raise ValidationError(
                    {
                        "allowed_domains": [
                            f"{taken.domain} is verified for {taken.organization.name}."
                        ]
                    }
                )
        elif key == "role_rules":
            value = _clean_rules(value, organization=organization)
        elif key in ("enabled", "passwords_off") and not isinstance(value, bool):
            raise ValidationError({key: ["true or false."]})
        elif key == "recheck_minutes" and not _minutes(value):
            raise ValidationError({"recheck_minutes": ["Minutes between checks, from 1 to 1440."]})
        clean[key] = value
    return clean


def _minutes(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1440


def _check_an_admin_signs_in_with_it(*, config: ProviderConfig) -> None:
    """Passwords off only once an admin of the organization has signed in through the provider:
    otherwise a wrong setting would lock every admin out (passwords refused, the provider not
    working)."""
    admins = OrganizationMember.objects.filter(
        organization=config.organization, is_admin=True, user__is_active=True
    ).values("user_id")
    if config.pk is None or not config.identities.filter(user_id__in=admins).exists():
        raise ValidationError(
            {
                "passwords_off": [
                    "First sign in through the provider as an admin of "
                    f"{config.organization.name} (at /login/{config.organization.slug}/): "
                    "with passwords off, nobody could get in if it does not work."
                ]
            }
        )


@transaction.atomic
def provider_config_save(
    *,
    organization: Organization,
    changes: dict,
    client_secret: str | None = None,
    actor: AbstractBaseUser | None,
) -> ProviderConfig:
    """Create or change the organization's provider. ``client_secret`` is kept when ``None`` or
    empty (the pages never show it back, so a form left blank means "unchanged")."""
    current = ProviderConfig.objects.select_for_update().filter(organization=organization).first()
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({key: ["Not a sign-in setting."] for key in sorted(unknown)})
    if current is None:
        missing = [
            key
            for key in ("display_name", "issuer", "client_id", "allowed_domains")
            if key not in changes
        ]
        if missing:
            raise ValidationError({key: ["This field is required."] for key in missing})
    clean = _clean(changes, organization=organization)
    if client_secret is not None and not isinstance(client_secret, str):
        raise ValidationError({"client_secret": ["The client secret is text."]})
    config = current or ProviderConfig(organization=organization)
    if clean.get("passwords_off") and not config.passwords_off:
        _check_an_admin_signs_in_with_it(config=config)
    issuer_before = config.issuer
    for key, value in clean.items():
        setattr(config, key, value)
    if client_secret:
        config.client_secret = client_secret.strip()
    config.full_clean(exclude=["organization", "client_secret"])
    config.save()
    if "allowed_domains" in clean:
        _claims_sync(organization=organization, domains=config.allowed_domains)
    if issuer_before and issuer_before != config.issuer:
        forget_metadata(config)
    log.info(
        "sign-in settings of %s changed by %s: %s",
        organization.slug,
        actor,
        sorted(clean) + (["client_secret"] if client_secret else []),
    )
    return config


def _claims_sync(*, organization: Organization, domains: list[str]) -> None:
    """One claim per allowed domain: new domains wait for verification, dropped ones go."""
    DomainClaim.objects.filter(organization=organization).exclude(domain__in=domains).delete()
    for domain in domains:
        DomainClaim.objects.get_or_create(organization=organization, domain=domain)


@transaction.atomic
def domain_claim_verify(*, claim_id: int, by: str) -> DomainClaim:
    """LabelHub's staff checked that the organization owns the domain: its people are sent to
    its provider from the log-in page. Refused while another organization holds it verified."""
    claim = DomainClaim.objects.select_for_update().select_related("organization").get(pk=claim_id)
    if claim.verified_at is not None:
        return claim
    other = (
        DomainClaim.objects.filter(domain=claim.domain, verified_at__isnull=False)
        .select_related("organization")
        .first()
    )
    if other is not None:
        raise ValidationError(
            {"domain": [f"{claim.domain} is verified for {other.organization.name} already."]}
        )
    claim.verified_at = timezone.now()
    claim.verified_by = by[:150]
    claim.save(update_fields=["verified_at", "verified_by"])
    log.info("domain %s verified for %s by %s", claim.domain, claim.organization.slug, by)
    return claim


@transaction.atomic
def provider_config_delete(*, organization: Organization) -> None:
    """Stop signing in through the provider: its sessions end, the accounts and memberships stay
    (people get back in with a password or an invitation)."""
    config = ProviderConfig.objects.filter(organization=organization).first()
    if config is None:
        return
    keys = list(
        ProviderSession.objects.filter(identity__provider=config).values_list(
            "session_key", flat=True
        )
    )
    _end_sessions(keys)
    config.delete()


# --- signing in --------------------------------------------------------------------------------


def record_provider_verified_email(*, user: AbstractBaseUser, email: str) -> None:
    """Record that ``user`` owns ``email``, verified by the organization's identity provider: the
    one place the sign-in app adds to a person's verified addresses. Refused in words when
    another person has verified that address."""
    try:
        email_address_mark_verified(user=user, email=email)
    except ValidationError as error:
        raise SignInRefused(
            f"The address {email} is verified for another account here: an admin must sort that "
            "out first.",
            reason="address_taken",
        ) from error


def _verified(claims: dict) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _names(claims: dict) -> tuple[str, str]:
    first = str(claims.get("given_name") or "").strip()
    last = str(claims.get("family_name") or "").strip()
    if not first and not last and claims.get("name"):
        parts = str(claims["name"]).strip().split(" ", 1)
        first, last = parts[0], parts[1] if len(parts) > 1 else ""
    return first[:150], last[:150]


def _groups(claims: dict, claim: str) -> list[str]:
    value = claims.get(claim) or []
    if isinstance(value, str):
        value = value.split()
    return [str(group) for group in value if isinstance(group, (str, int))]


def _unique_username(email: str) -> str:
    User = get_user_model()
    base = slugify(email.split("@", 1)[0])[:140] or "person"
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}{n}"
    return username


@dataclass(frozen=True)
class SignedIn:
    user: AbstractBaseUser
    identity: ProviderIdentity
    created: bool


@transaction.atomic
def person_sign_in(*, provider: ProviderConfig, claims: dict) -> SignedIn:
    """The person the provider vouched for, provisioned just in time.

    A first sign-in needs an address the provider marks verified at one of the allowed domains:
    it creates the account (no password) and the membership, or binds an account that is
    already a member here with that address. Every sign-in updates the name and the address, and
    grants what the role rules say for the person's groups. Refused (with words for the person):
    an unverified address, a domain not allowed, a deactivated account, a person an admin removed
    since their first sign-in, an address that belongs to an account outside the organization.
    """
    organization = provider.organization
    name = provider.display_name
    subject = str(claims.get("sub") or "")
    email = str(claims.get("email") or "").strip()
    verified = _verified(claims)
    domain = email.rsplit("@", 1)[-1].lower() if "@" in email else ""
    if not subject:
        raise SignInRefused(f"{name} did not say who you are (no subject).", reason="sub")
    if not email:
        raise SignInRefused(
            f"{name} did not share your email address: ask your admin to allow the email scope.",
            reason="email",
        )
    if domain not in provider.allowed_domains:
        raise SignInRefused(
            f"Addresses at {domain or email} do not sign in to {organization.name}: its "
            f"allowed domains are {', '.join(provider.allowed_domains)}.",
            reason="domain",
        )
    identity = (
        ProviderIdentity.objects.select_for_update()
        .select_related("user")
        .filter(provider=provider, subject=subject)
        .first()
    )
    created = False
    if identity is None:
        if not verified:
            raise SignInRefused(
                f"{name} has not verified your address {email}: verify it there first.",
                reason="email_verified",
            )
        user, created = _account_for_first_sign_in(provider=provider, email=email)
        identity = ProviderIdentity.objects.create(
            provider=provider, subject=subject, user=user, email=email
        )
    elif not OrganizationMember.objects.filter(
        organization=organization, user_id=identity.user_id
    ).exists():
        # They were a member (their first sign-in made them one) until an admin removed them:
        # signing in again must not undo the *Remove*.
        raise SignInRefused(
            f"An admin of {organization.name} removed you from it: ask them to invite you again.",
            reason="removed",
        )
    user = identity.user
    if not user.is_active or _deactivated_by_scim(provider=provider, user=user):
        raise SignInRefused(
            f"Your account here is deactivated: an admin of {organization.name} can let you back.",
            reason="inactive",
        )
    _update_person(user=user, identity=identity, claims=claims, email=email, verified=verified)
    groups = _groups(claims, provider.groups_claim)
    _apply_roles(identity=identity, groups=groups, via=f"signed in with {name}")
    identity.groups = groups
    identity.last_sign_in_at = timezone.now()
    identity.save(update_fields=["groups", "last_sign_in_at", "email"])
    return SignedIn(user=user, identity=identity, created=created)


def _deactivated_by_scim(*, provider: ProviderConfig, user: AbstractBaseUser) -> bool:
    """The provider's SCIM client manages this person and made them (or left them) inactive here:
    signing in must not make them a member again."""
    return (
        ScimPerson.objects.filter(provider=provider, user=user).exists()
        and not OrganizationMember.objects.filter(
            organization=provider.organization, user=user
        ).exists()
    )


def accounts_using(email: str):
    """Accounts whose address is ``email`` (case-insensitive), leaving out sign-ups that were never
    confirmed: inactive, never logged in, no verified address, no membership, nobody's provider
    vouched for them. Such an account squats nothing: its link, if used later, is refused because
    the address is verified for someone else by then."""
    User = get_user_model()
    person = OuterRef("pk")
    never_used = (
        Q(is_active=False, last_login__isnull=True)
        & ~Exists(EmailAddress.objects.filter(user=person, verified_at__isnull=False))
        & ~Exists(OrganizationMember.objects.filter(user=person))
        & ~Exists(ScimPerson.objects.filter(user=person))
        & ~Exists(ProviderIdentity.objects.filter(user=person))
    )
    return User.objects.filter(email__iexact=email).exclude(never_used)


def _account_for_first_sign_in(*, provider: ProviderConfig, email: str):
    """The account a first sign-in lands on: the one this provider's SCIM client made with the
    address, the member here who has verified the address, or a new one. Refused: an address
    verified by someone outside the organization (never taken over), or used unverified by an
    existing account (which proves nothing either way)."""
    organization = provider.organization
    User = get_user_model()
    owner = email_address_owner(email=email)
    provisioned = (
        ScimPerson.objects.select_related("user")
        .filter(provider=provider, user__email__iexact=email)
        .first()
    )
    if provisioned is not None and owner in (None, provisioned.user):
        return provisioned.user, False
    if owner is not None:
        member = OrganizationMember.objects.filter(organization=organization, user=owner).exists()
        if not member or owner.is_staff or owner.is_superuser:
            raise SignInRefused(
                f"An account with the address {email} exists already outside "
                f"{organization.name}: sign in with it, or ask an admin to invite it.",
                reason="existing_account",
            )
        return owner, False
    if accounts_using(email).exists():
        raise SignInRefused(
            f"An account here uses {email} without having verified it: sign in with it and "
            "verify the address, or ask an admin of "
            f"{organization.name}.",
            reason="existing_account",
        )
    user = User(username=_unique_username(email), email=email)
    user.set_unusable_password()
    user.save()
    return user, True


def _update_person(
    *, user: AbstractBaseUser, identity: ProviderIdentity, claims: dict, email: str, verified: bool
) -> None:
    first, last = _names(claims)
    fields = []
    if (first or last) and (user.first_name, user.last_name) != (first, last):
        user.first_name, user.last_name = first, last
        fields += ["first_name", "last_name"]
    if verified:
        if user.email.lower() != email.lower():
            user.email = email
            fields.append("email")
        identity.email = email
        record_provider_verified_email(user=user, email=email)
    if fields:
        user.save(update_fields=fields)


def _apply_roles(*, identity: ProviderIdentity, groups: list[str], via: str) -> None:
    """Membership for everyone; admin and project roles for the groups the rules name.

    A role the rules give is recorded as the provider's (:class:`ProviderGrant`) only when the
    person did not hold it already, and taken back once their groups no longer call for it. Roles
    given by hand here are never taken away. A take-back that would leave the organization with
    no admin, or a project with no manager, is kept (and logged) until someone else holds it.
    """
    provider, user = identity.provider, identity.user
    organization = provider.organization
    rules = [rule for rule in provider.role_rules if rule["group"] in groups]
    want_admin = any(rule.get("admin") for rule in rules)
    want_roles = {(rule["project"], rule["role"]) for rule in rules if "project" in rule}
    member = member_add(organization=organization, user=user, via=via)
    held = {(grant.project_id, grant.role): grant for grant in identity.grants.all()}
    if want_admin and not member.is_admin:
        member_set_admin(organization=organization, user_id=user.pk, is_admin=True, actor=None)
        ProviderGrant.objects.get_or_create(identity=identity, project=None, role="")
    projects = {
        project.pk: project
        for project in Project.objects.filter(
            organization=organization, pk__in=[project for project, _ in want_roles]
        )
    }
    for project_id, role in sorted(want_roles):
        project = projects.get(project_id)
        if project is None:
            continue
        if not ProjectMember.objects.filter(project=project, user=user, role=role).exists():
            member_add(organization=organization, user=user, project=project, role=role, via=via)
            ProviderGrant.objects.get_or_create(identity=identity, project=project, role=role)
    for (project_id, role), grant in held.items():
        if (project_id is None and want_admin) or (project_id, role) in want_roles:
            continue
        try:
            with transaction.atomic():
                _take_back(grant=grant, user=user, organization=organization)
        except ValidationError as refusal:
            log.info("kept %s of %s: %s", grant, user, refusal.messages)
            continue
        grant.delete()


def _take_back(*, grant: ProviderGrant, user, organization: Organization) -> None:
    if grant.project_id is None:
        member_set_admin(organization=organization, user_id=user.pk, is_admin=False, actor=None)
        return
    held = (
        ProjectMember.objects.select_related("project", "user")
        .filter(project_id=grant.project_id, user=user, role=grant.role)
        .first()
    )
    if held is not None:
        project_member_remove(member=held, actor=None)


# --- sessions ----------------------------------------------------------------------------------

#: Keys in a Django session opened through a provider.
SESSION_ID = "signin_session"
SESSION_CHECK_AFTER = "signin_check_after"


def session_open(*, identity: ProviderIdentity, session, refresh_token: str) -> ProviderSession:
    """Remember that this (already logged-in) session came from the provider, keep the sign-in's
    grant on the identity (for the checks, also after logging out) and say when to ask again."""
    if session.session_key is None:
        session.save()
    now = timezone.now()
    if refresh_token:
        identity.refresh_token = refresh_token
    identity.checked_at = now
    identity.access_ended_at = None
    identity.save(update_fields=["refresh_token", "checked_at", "access_ended_at"])
    row, _ = ProviderSession.objects.update_or_create(
        session_key=session.session_key, defaults={"identity": identity, "checked_at": now}
    )
    session[SESSION_ID] = row.pk
    session[SESSION_CHECK_AFTER] = check_due(identity).timestamp()
    return row


def check_due(identity: ProviderIdentity):
    """When the provider must be asked again about this person."""
    return identity.checked_at + timedelta(minutes=identity.provider.recheck_minutes)


class Recheck:
    """The outcome of :func:`identity_recheck`."""

    VALID = "valid"  # the provider still vouches (now, or at a check a moment ago)
    REFUSED = "refused"  # it no longer honours the grant: access ended
    NO_GRANT = "no_grant"  # nothing to ask it with (no refresh token, or the provider is off)
    UNREACHABLE = "unreachable"  # it did not answer: nothing changed, asked again next time


def identity_recheck(*, identity_id: int, now=None) -> str:
    """Ask the provider whether it still vouches for the person, with the identity's grant.

    One check for a browser session that is due and for ``manage.py recheck_identities``: the
    identity's row lock is held during the call, so two checks at once do not both spend the same
    refresh token, and a check someone made a moment ago is not repeated. The provider saying
    yes moves the next check on and takes the person's current name, address and groups (roles
    follow the rules, both ways); saying no ends every session the person opened through it and
    their API token (:func:`access_end`).
    """
    now = now or timezone.now()
    with transaction.atomic():
        identity = (
            ProviderIdentity.objects.select_for_update(of=("self",))
            .select_related("provider__organization", "user")
            .get(pk=identity_id)
        )
        if identity.access_ended_at is not None:
            return Recheck.REFUSED
        if identity.checked_at is not None and now < check_due(identity):
            return Recheck.VALID
        if not identity.refresh_token or not identity.provider.enabled:
            return Recheck.NO_GRANT
        status, refresh_token, claims = recheck(
            provider=identity.provider, refresh_token=identity.refresh_token
        )
        if status == ProviderCheck.VALID:
            _identity_checked(
                identity=identity, refresh_token=refresh_token, claims=claims, now=now
            )
            return Recheck.VALID
        if status == ProviderCheck.REFUSED:
            access_end(identity=identity, reason="the provider refused the refresh grant")
            return Recheck.REFUSED
        return Recheck.UNREACHABLE


def _identity_checked(*, identity: ProviderIdentity, refresh_token: str, claims: dict, now) -> None:
    """The provider still vouches: keep the rotated refresh token, move the next check on, take
    the person's current name and address, and their groups' roles when the answer lists them."""
    identity.refresh_token = refresh_token
    identity.checked_at = now
    fields = ["refresh_token", "checked_at"]
    if claims.get("sub") == identity.subject:
        email = str(claims.get("email") or identity.email)
        allowed = email.rsplit("@", 1)[-1].lower() in identity.provider.allowed_domains
        # An address verified by someone else meanwhile stays as it was.
        with contextlib.suppress(SignInRefused), transaction.atomic():
            _update_person(
                user=identity.user,
                identity=identity,
                claims=claims,
                email=email,
                verified=_verified(claims) and allowed,
            )
        fields.append("email")
        member = OrganizationMember.objects.filter(
            organization=identity.provider.organization, user=identity.user
        ).exists()
        if member and identity.provider.groups_claim in claims:
            groups = _groups(claims, identity.provider.groups_claim)
            _apply_roles(
                identity=identity,
                groups=groups,
                via=f"groups at {identity.provider.display_name}",
            )
            identity.groups = groups
            fields.append("groups")
    identity.save(update_fields=fields)


def session_forget(*, session_key: str | None) -> None:
    """The person logged out: nothing more to check for that session (the identity keeps its
    grant, so the person's API token is still checked with the provider)."""
    if session_key:
        ProviderSession.objects.filter(session_key=session_key).delete()


def _end_sessions(session_keys: list[str]) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in session_keys:
        store(session_key=key).delete()
    ProviderSession.objects.filter(session_key__in=session_keys).delete()


@transaction.atomic
def access_end(*, identity: ProviderIdentity, reason: str) -> None:
    """The provider no longer vouches for this person: every session they opened through it ends
    and their API token stops, at once. Their account, memberships and work stay (an admin
    removes them from the People page; signing in again needs the provider's yes)."""
    keys = list(identity.sessions.values_list("session_key", flat=True))
    _end_sessions(keys)
    revoke_tokens(
        user=identity.user,
        organization=identity.provider.organization,
        why=f"{identity.provider.display_name} no longer vouches for them ({reason})",
    )
    identity.refresh_token = ""
    identity.access_ended_at = timezone.now()
    identity.save(update_fields=["refresh_token", "access_ended_at"])
    log.info(
        "access of %s through %s ended: %s", identity.user, identity.provider.display_name, reason
    )


def identities_due(*, now=None) -> list[int]:
    """Identities whose last check is older than their provider's interval (enabled providers,
    access not ended), oldest first."""
    now = now or timezone.now()
    due: list[int] = []
    for provider in ProviderConfig.objects.filter(enabled=True):
        before = now - timedelta(minutes=provider.recheck_minutes)
        due += ProviderIdentity.objects.filter(
            Q(checked_at__lt=before) | Q(checked_at__isnull=True),
            provider=provider,
            access_ended_at__isnull=True,
        ).values_list("pk", flat=True)
    return due


def identities_recheck(*, now=None) -> dict[str, int]:
    """Check every identity that is due (``manage.py recheck_identities``, from cron). An
    identity with no grant to ask with (the provider gave no refresh token) cannot be vouched
    for: its access ends (fail closed), so a removed person's API token never outlives the
    interval. Returns how many checks ended which way."""
    counts = dict.fromkeys(
        (Recheck.VALID, Recheck.REFUSED, Recheck.NO_GRANT, Recheck.UNREACHABLE), 0
    )
    for identity_id in identities_due(now=now):
        try:
            status = identity_recheck(identity_id=identity_id, now=now)
            if status == Recheck.NO_GRANT:
                identity = ProviderIdentity.objects.select_related(
                    "provider__organization", "user"
                ).get(pk=identity_id)
                access_end(identity=identity, reason="no grant to check with")
        except Exception:  # one person's failure must not stop the others' checks
            log.exception("the check of identity %s failed", identity_id)
            status = Recheck.UNREACHABLE
        counts[status] += 1
    return counts


def passwords_off_for(user) -> ProviderConfig | None:
    """The provider of an organization of ``user`` that turned passwords off, if any."""
    if user is None or not getattr(user, "pk", None):
        return None
    return (
        ProviderConfig.objects.filter(
            enabled=True,
            passwords_off=True,
            organization__members__user_id=user.pk,
        )
        .select_related("organization")
        .first()
    )


def provider_for_email(email: str) -> ProviderConfig | None:
    """The enabled provider of the organization that holds the address's domain verified."""
    domain = email.strip().rsplit("@", 1)[-1].lower() if "@" in email else email.strip().lower()
    if not domain:
        return None
    claim = (
        DomainClaim.objects.filter(
            domain=domain,
            verified_at__isnull=False,
            organization__identity_provider__enabled=True,
        )
        .select_related("organization__identity_provider")
        .first()
    )
    if claim is None or domain not in claim.organization.identity_provider.allowed_domains:
        return None
    return claim.organization.identity_provider


# --- SCIM ---------------------------------------------------------------------------------------


def scim_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def scim_token_create(*, organization: Organization) -> str:
    """A new bearer token for the provider's SCIM client (the previous one stops); only its
    SHA-256 is kept, the token is shown this once."""
    config = ProviderConfig.objects.select_for_update().filter(organization=organization).first()
    if config is None:
        raise ValidationError({"provider": ["Connect the identity provider first."]})
    token = secrets.token_urlsafe(32)
    config.scim_token_hash = scim_token_digest(token)
    config.save(update_fields=["scim_token_hash", "updated_at"])
    return token


def provider_for_scim_token(token: str) -> ProviderConfig | None:
    if not token:
        return None
    digest = scim_token_digest(token)
    config = (
        ProviderConfig.objects.select_related("organization")
        .filter(scim_token_hash=digest, enabled=True)
        .first()
    )
    if config is None or not hmac.compare_digest(config.scim_token_hash, digest):
        return None
    return config


@transaction.atomic
def scim_person_create(
    *,
    provider: ProviderConfig,
    email: str,
    first_name: str,
    last_name: str,
    external_id: str,
    active: bool,
):
    """A person created ahead of their first sign-in: an account with no password and, when
    active, the membership. An address outside the allowed domains, or of an existing account,
    is refused (409 for the latter, as SCIM says)."""
    organization = provider.organization
    email = email.strip()
    if "@" not in email or email.rsplit("@", 1)[1].lower() not in provider.allowed_domains:
        raise ValidationError(
            {"userName": [f"{email!r} is not an address at {', '.join(provider.allowed_domains)}."]}
        )
    User = get_user_model()
    if accounts_using(email).exists():
        raise ScimConflict(f"An account with the address {email} exists already.")
    user = User(
        username=_unique_username(email),
        email=email,
        first_name=first_name[:150],
        last_name=last_name[:150],
    )
    user.set_unusable_password()
    user.save()
    ScimPerson.objects.create(provider=provider, user=user, external_id=external_id[:255])
    if active:
        member_add(
            organization=organization, user=user, via=f"provisioned by {provider.display_name}"
        )
    return user


class ScimConflict(Exception):
    pass


@transaction.atomic
def scim_person_update(
    *,
    provider: ProviderConfig,
    user,
    email: str | None,
    first_name: str | None,
    last_name: str | None,
    active: bool | None,
) -> None:
    """Name and address as the provider says; ``active`` false does what *Remove* does (leases
    back, API token 401, account deactivated when in no other organization, work kept) and ends
    the sessions opened through the provider; true brings the person back."""
    organization = provider.organization
    fields = []
    if email is not None and email.lower() != user.email.lower():
        email = email.strip()
        if "@" not in email or email.rsplit("@", 1)[1].lower() not in provider.allowed_domains:
            raise ValidationError({"emails": [f"{email!r} is not at an allowed domain."]})
        owner = email_address_owner(email=email)
        if (owner is not None and owner.pk != user.pk) or accounts_using(email).exclude(
            pk=user.pk
        ).exists():
            raise ScimConflict(f"Another account has the address {email}.")
        user.email = email
        fields.append("email")
    if first_name is not None and first_name != user.first_name:
        user.first_name = first_name[:150]
        fields.append("first_name")
    if last_name is not None and last_name != user.last_name:
        user.last_name = last_name[:150]
        fields.append("last_name")
    if fields:
        user.save(update_fields=fields)
    ScimPerson.objects.get_or_create(provider=provider, user=user)
    member = OrganizationMember.objects.filter(organization=organization, user=user).exists()
    if active is False and member and user.is_active:
        scim_person_deactivate(provider=provider, user=user)
    elif active is True and not (member and user.is_active):
        if not user.is_active:
            get_user_model().objects.filter(pk=user.pk).update(is_active=True)
            user.is_active = True
        member_add(
            organization=organization, user=user, via=f"provisioned by {provider.display_name}"
        )


@transaction.atomic
def scim_person_deactivate(*, provider: ProviderConfig, user) -> None:
    """The provider deactivated the person: access ends at once, whatever else holds.

    Their sessions opened through the provider end and their API token stops first. Then they are
    removed as *Remove* does; when *Remove* refuses (the organization's last admin, a project's
    only manager) the account is suspended instead (deactivated, memberships and roles kept so
    nothing is left without its admin or manager) and the audit log tells the admins what to hand
    over. Either way the provider hears success: it has nothing to retry.
    """
    organization = provider.organization
    keys = list(
        ProviderSession.objects.filter(
            identity__provider=provider, identity__user=user
        ).values_list("session_key", flat=True)
    )
    _end_sessions(keys)
    ProviderIdentity.objects.filter(provider=provider, user=user).update(
        refresh_token="", access_ended_at=timezone.now()
    )
    revoke_tokens(
        user=user, organization=organization, why=f"deactivated by {provider.display_name}"
    )
    try:
        with transaction.atomic():
            member_remove(organization=organization, user_id=user.pk, actor=None)
    except ValidationError as refusal:
        reasons = [message for messages in refusal.message_dict.values() for message in messages]
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        audit_record(
            actor=None,
            action=AuditAction.PERSON_REMOVED,
            organization=organization,
            summary=(
                f"{user.get_username()} deactivated by {provider.display_name} (SCIM) and "
                f"suspended, not removed: {' '.join(reasons)} Then remove them on the People page."
            ),
            changes={"user": user.get_username(), "suspended": True, "kept_because": reasons},
        )


def revoke_tokens(*, user, organization: Organization, why: str) -> bool:
    """End every API token of ``user`` because the provider said so (the audit log says who)."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    if deleted:
        audit_record(
            actor=None,
            action=AuditAction.TOKEN_REVOKED,
            organization=organization,
            summary=f"API token of {user.get_username()} revoked: {why}",
            changes={"user": user.get_username()},
        )
    return bool(deleted)
