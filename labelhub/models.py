"""The core every app depends on: organizations, people's roles, projects.

Nothing crosses organizations: a project belongs to one organization, and only members of that
organization can hold a role on it. Roles are per project, so one person can label one project and
review another, and a person may hold several on one project (manage it and label it).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

import kinds
from labelhub.encryption import EncryptedTextField


class Organization(models.Model):
    """A customer. Every project and every piece of data belongs to exactly one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    # Protection from distressing content (see labelhub.content): minutes of work on sensitive
    # tasks a person may do per day (0: no cap), and a break suggested after so many in a row.
    sensitive_minutes_per_day = models.PositiveIntegerField(default=120)
    sensitive_break_after = models.PositiveSmallIntegerField(default=10)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganizationMember(models.Model):
    """A person's place in an organization; ``is_admin`` may create projects."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organization_memberships"
    )
    is_admin = models.BooleanField(default=False)
    # The content categories (bits, see labelhub.content) this person will not be shown here.
    content_opt_outs = models.BigIntegerField(default=0)
    # Set when they reach the organization's daily cap of sensitive work: until then the queue
    # hands them no sensitive task (the claim reads it with the opt-outs).
    sensitive_paused_until = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="org_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}"


class Project(models.Model):
    """One labeling job: its task kind, the kind's schema, quality bars and instructions."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, choices=kinds.choices)
    schema = models.JSONField(default=dict, blank=True)
    quality = models.JSONField(default=dict, blank=True)
    instructions = models.TextField(blank=True)
    # Signs webhook deliveries (HMAC-SHA256); made on first use, see annotation.webhooks.
    webhook_secret = EncryptedTextField(blank=True, default="")  # encrypted at rest
    # Archived: off contributors' home, the queue hands out nothing; managers can bring it back.
    archived_at = models.DateTimeField(null=True, blank=True)
    # Open: every member of the organization who meets the requirements (``requirements``,
    # ``languages``) sees it on their home page and may join it as a contributor.
    is_open = models.BooleanField(default=False)
    languages = models.JSONField(
        default=list, blank=True, help_text="Language codes a contributor must speak, all of them."
    )
    # The content categories every task of the project carries (bits, see labelhub.content);
    # a task's own categories are on the task and add to these.
    content_flags = models.BigIntegerField(default=0)
    # Every content bit any of its tasks has been imported with (only grows; the import keeps
    # it). The queue reads it to know when an opted-out person can take only unmarked tasks.
    task_content_flags = models.BigIntegerField(default=0, db_default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="project_name_unique_in_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def task_kind(self) -> "kinds.TaskKind":
        return kinds.get(self.kind)

    @property
    def installed_kind(self) -> "kinds.TaskKind | None":
        """The project's kind, or ``None`` when it is no longer installed (templates ask this)."""
        return kinds.find(self.kind)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Role(models.TextChoices):
    MANAGER = "manager", "Manager"
    REVIEWER = "reviewer", "Reviewer"
    CONTRIBUTOR = "contributor", "Contributor"


class ProjectMember(models.Model):
    """One of a person's roles on a project (one row per role: a manager who labels has two)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_roles"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user", "role"], name="project_member_role_unique"
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="project_member_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} on {self.project}"


class AuditAction(models.TextChoices):
    PROJECT_CREATED = "project.created", "Project created"
    PROJECT_CHANGED = "project.changed", "Project settings changed"
    SCHEMA_CHANGED = "schema.changed", "Schema changed"
    QUALITY_CHANGED = "quality.changed", "Quality bars changed"
    MEMBER_ADDED = "member.added", "Member added"
    MEMBER_ROLE_CHANGED = "member.role_changed", "Member's role changed"
    MEMBER_REMOVED = "member.removed", "Member removed"
    REVIEW_RECORDED = "review.recorded", "Review recorded"
    EXPORT_REQUESTED = "export.requested", "Export requested"
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"
    CONTRIBUTOR_PAUSED = "contributor.paused", "Contributor paused"
    CONTRIBUTOR_RESUMED = "contributor.resumed", "Contributor resumed"
    PROJECT_ARCHIVED = "project.archived", "Project archived"
    PROJECT_UNARCHIVED = "project.unarchived", "Project unarchived"
    PROJECT_DUPLICATED = "project.duplicated", "Project duplicated"
    PROJECT_DELETED = "project.deleted", "Project deleted"
    TASKS_GOLD_MARKED = "tasks.gold_marked", "Tasks marked gold"
    TASKS_GOLD_UNMARKED = "tasks.gold_unmarked", "Tasks no longer gold"
    TASKS_REQUEUED = "tasks.requeued", "Tasks re-queued"
    TASKS_PRIORITY_RAISED = "tasks.priority_raised", "Tasks' priority raised"
    TASKS_DELETED = "tasks.deleted", "Tasks deleted"
    ORGANIZATION_CREATED = "organization.created", "Organization created"
    PERSON_JOINED = "person.joined", "Person joined the organization"
    PERSON_ADMIN_CHANGED = "person.admin_changed", "Organization admin changed"
    PERSON_REMOVED = "person.removed", "Person removed from the organization"
    INVITATION_CREATED = "invitation.created", "Invitation made"
    INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"
    INVITATION_ACCEPTED = "invitation.accepted", "Invitation accepted"
    SKILL_CREATED = "skill.created", "Skill added to the organization's list"
    PERSON_SKILL_CHANGED = "person.skill_changed", "A person's skill changed"
    PERSON_SKILL_VERIFIED = "person.skill_verified", "A person's skill verified"
    PROFILE_CHANGED = "profile.changed", "Profile changed"
    REQUIREMENTS_CHANGED = "project.requirements_changed", "Project requirements changed"
    PROJECT_JOINED = "project.joined", "Joined an open project"
    PAY_RATES_CHANGED = "pay.rates_changed", "Project pay rates changed"
    PAY_SETTINGS_CHANGED = "pay.settings_changed", "Organization pay settings changed"
    APPEAL_FILED = "appeal.filed", "Appeal filed"
    APPEAL_DECIDED = "appeal.decided", "Appeal decided"
    CONTENT_CATEGORIES_CHANGED = "content.categories_changed", "Content categories changed"
    CONTENT_PREFERENCES_CHANGED = "content.preferences_changed", "Content opt-outs changed"


class AuditEvent(models.Model):
    """Who changed what and when: append-only, written in the same transaction as the change.

    Rows outlive their project: deleting one sets ``project`` to null, and ``project_name`` still
    says which project the row was about.
    """

    organization = models.ForeignKey(
        Organization, null=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    project_name = models.CharField(max_length=200, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    summary = models.CharField(max_length=500, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="audit_project_recent")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor} at {self.created_at:%Y-%m-%d %H:%M}"


class InvitationState(models.TextChoices):
    SENT = "sent", "Sent"
    ACTIVE = "active", "Active link"
    ACCEPTED = "accepted", "Accepted"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Invitation(models.Model):
    """A way into an organization (and, optionally, a role on one of its projects).

    Sent to an ``email`` it is single-use; made as a link (no email) it may be used ``max_uses``
    times (no limit when empty). Only a SHA-256 of its secret is stored: the secret itself is in
    the URL, shown once (link) or mailed (email), and compared in constant time.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(blank=True, default="")
    is_admin = models.BooleanField(default=False)
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    role = models.CharField(max_length=20, choices=Role.choices, blank=True, default="")
    secret_hash = models.CharField(max_length=64)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Invitation to {self.organization} for {self.email or 'a link'}"

    @property
    def is_link(self) -> bool:
        return not self.email

    def state_at(self, now) -> str:
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if self.max_uses is not None and self.use_count >= self.max_uses:
            return InvitationState.ACCEPTED
        if self.expires_at <= now:
            return InvitationState.EXPIRED
        return InvitationState.ACTIVE if self.is_link else InvitationState.SENT

    @property
    def state(self) -> str:
        return self.state_at(timezone.now())


class SkillLevel(models.IntegerChoices):
    WORKING = 1, "Working"
    PROFESSIONAL = 2, "Professional"
    EXPERT = 3, "Expert"


class Skill(models.Model):
    """An entry of an organization's own list of skills (``medicine``, ``python``, ``legal-de``)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="skills")
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="skill_name_unique_in_org"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """What a person tells the organizations they belong to about themselves."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(max_length=150, blank=True, default="")
    languages = models.JSONField(default=list, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class Verification(models.TextChoices):
    SELF = "self", "Self-declared"
    ADMIN = "admin", "Verified by an admin"
    QUALIFICATION = "qualification", "Passed a qualification"


class PersonSkill(models.Model):
    """A person's level in one skill of an organization, and who vouches for it."""

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="holders")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skills"
    )
    level = models.PositiveSmallIntegerField(choices=SkillLevel.choices)
    verification = models.CharField(
        max_length=20, choices=Verification.choices, default=Verification.SELF
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["skill", "user"], name="person_skill_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.skill} ({self.get_level_display()})"


class ProjectRequirement(models.Model):
    """A skill a project asks of its contributors, at least at ``min_level``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="requirements")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="+")
    min_level = models.PositiveSmallIntegerField(
        choices=SkillLevel.choices, default=SkillLevel.WORKING
    )
    verified_only = models.BooleanField(default=False)

    class Meta:
        ordering = ["skill__name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "skill"], name="project_requirement_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.project} needs {self.skill} ≥ {self.get_min_level_display()}"


class ContentCategory(models.Model):
    """A category of distressing content an organization adds to the built-in ones.

    Every organization has the built-ins (:data:`labelhub.content.BUILT_IN`, bits 0–4) without a
    row; its own categories take the free bits 5–62, so that a task's and a person's categories
    are one 64-bit integer each and the queue tests them with one ``&``.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="content_categories"
    )
    name = models.CharField(max_length=40)
    label = models.CharField(max_length=80)
    bit = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bit"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="content_category_name_unique_in_org"
            ),
            models.UniqueConstraint(
                fields=["organization", "bit"], name="content_category_bit_unique_in_org"
            ),
            models.CheckConstraint(
                condition=Q(bit__gte=5, bit__lte=62), name="content_category_bit_free"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class ApiToken(models.Model):
    """An API token of a person, kept only as a SHA-256 of the key (``labelhub.accounts``).

    The key is shown once, when it is made; afterwards its first characters (``prefix``) tell the
    person which token is which. A token is the person's, not an organization's: what it reaches
    is what the person's memberships allow at the time of each call.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"API token {self.prefix}… of {self.user}"


class EmailAddress(models.Model):
    """An email address of a person; it counts as theirs only once ``verified_at`` is set.

    Verified by a link mailed to it (``labelhub.email_addresses``) or by an identity provider
    that vouches for it. Whatever binds a person by address (an organization's first admin, an
    invitation by email, single sign-on) reads verified rows only, and one address is verified
    for at most one person (case-insensitively): a constraint, not a convention.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_addresses"
    )
    email = models.EmailField()
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("email"),
                condition=Q(verified_at__isnull=False),
                name="email_address_verified_once",
            ),
            models.UniqueConstraint(
                "user", models.functions.Lower("email"), name="email_address_once_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({'verified' if self.verified_at else 'not verified'})"


class EmailVerification(models.Model):
    """A link mailed to prove an address: single use, expiring, only a SHA-256 of its secret
    kept (as invitations'). A sign-up through an invitation waits on one: the account is made
    inactive, and opening the link activates it and uses the ``invitation``."""

    address = models.ForeignKey(
        EmailAddress, on_delete=models.CASCADE, related_name="verifications"
    )
    secret_hash = models.CharField(max_length=64)
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Verification of {self.address.email}"
