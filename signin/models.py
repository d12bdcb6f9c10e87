"""An organization's identity provider, the people it vouched for, and the sessions it opened."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from labelhub.encryption import EncryptedTextField
from labelhub.models import Organization, Project

DEFAULT_SCOPES = "openid email profile"
DEFAULT_RECHECK_MINUTES = 15


class ProviderConfig(models.Model):
    """How one organization's people sign in with its identity provider.

    ``client_secret`` is encrypted at rest and write-only: no page nor API response shows it back.
    ``role_rules`` turn the values of ``groups_claim`` into roles, e.g.
    ``[{"group": "labeling-admins", "admin": true},
    {"group": "reviewers", "project": 12, "role": "reviewer"}]``; a person matching no rule is a
    member without project roles.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="identity_provider"
    )
    enabled = models.BooleanField(default=True)
    display_name = models.CharField(max_length=80, help_text="Shown as “Sign in with …”.")
    issuer = models.URLField(max_length=500)
    client_id = models.CharField(max_length=255)
    client_secret = EncryptedTextField(blank=True, default="")
    scopes = models.CharField(max_length=255, default=DEFAULT_SCOPES)
    allowed_domains = models.JSONField(default=list, blank=True)
    groups_claim = models.CharField(max_length=80, default="groups")
    role_rules = models.JSONField(default=list, blank=True)
    passwords_off = models.BooleanField(default=False)
    recheck_minutes = models.PositiveIntegerField(default=DEFAULT_RECHECK_MINUTES)
    # SHA-256 of the bearer token the provider's SCIM client uses (the token is shown once).
    scim_token_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(recheck_minutes__gte=1), name="signin_recheck_at_least_a_minute"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} for {self.organization}"


class ProviderIdentity(models.Model):
    """A person as the provider knows them: its subject (``sub``) bound to one account here.

    Once bound, a person is found by ``sub``, never again by address: a changed email at the
    provider updates the account instead of landing on someone else's.
    """

    provider = models.ForeignKey(
        ProviderConfig, on_delete=models.CASCADE, related_name="identities"
    )
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_identities"
    )
    email = models.EmailField(max_length=254)
    groups = models.JSONField(default=list, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True)
    # The grant of the latest sign-in, kept after logging out: the provider is asked again with it
    # every ``recheck_minutes`` (by a session's check or ``manage.py recheck_identities``). A
    # secret the server sends back to the provider: encrypted at rest.
    refresh_token = EncryptedTextField(blank=True, default="")
    checked_at = models.DateTimeField(null=True, help_text="When the provider last vouched.")
    access_ended_at = models.DateTimeField(
        null=True, help_text="When the provider stopped vouching; a new sign-in clears it."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subject"], name="signin_identity_subject_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.provider}"


class ProviderSession(models.Model):
    """A browser session opened through the provider: it ends when the provider stops vouching
    for the person (the grant it is checked with is the identity's)."""

    identity = models.ForeignKey(
        ProviderIdentity, on_delete=models.CASCADE, related_name="sessions"
    )
    session_key = models.CharField(max_length=64, unique=True)
    checked_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"session of {self.identity}"


class ProviderGrant(models.Model):
    """A role the provider's groups gave (``project`` empty: organization admin), kept so that it
    is taken back when the person leaves the group. Roles given by hand are not recorded here and
    the rules never take them away."""

    identity = models.ForeignKey(ProviderIdentity, on_delete=models.CASCADE, related_name="grants")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, blank=True, default="")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["identity", "project", "role"], name="signin_grant_unique"
            ),
            models.UniqueConstraint(
                fields=["identity"],
                condition=Q(project__isnull=True),
                name="signin_grant_admin_once",
            ),
            models.CheckConstraint(
                condition=Q(project__isnull=True, role="") | Q(project__isnull=False) & ~Q(role=""),
                name="signin_grant_admin_or_project_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role or 'admin'} for {self.identity}"


class ScimPerson(models.Model):
    """A person the provider's SCIM client created or manages here (seen again when deactivated)."""

    provider = models.ForeignKey(
        ProviderConfig, on_delete=models.CASCADE, related_name="scim_people"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_records"
    )
    external_id = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "user"], name="signin_scim_person_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} via SCIM of {self.provider}"


class DomainClaim(models.Model):
    """An organization says an email domain is its own. The log-in page sends people of a domain
    to an organization's provider only once the claim is verified (by LabelHub's staff, who
    checked that the organization owns it); a verified domain belongs to one organization."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="domain_claims"
    )
    domain = models.CharField(max_length=253)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "domain"], name="signin_domain_claimed_once"
            ),
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(verified_at__isnull=False),
                name="signin_domain_verified_once",
            ),
        ]

    def __str__(self) -> str:
        state = "verified" if self.verified_at else "not verified"
        return f"{self.domain} for {self.organization} ({state})"
