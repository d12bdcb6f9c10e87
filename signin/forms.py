"""The *People → Sign-in* form: the provider's settings, with role rules written one per line."""

import re

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core import validators
from django.core.exceptions import ValidationError

from labelhub.models import Organization, Role
from signin.models import DEFAULT_RECHECK_MINUTES, DEFAULT_SCOPES, ProviderConfig
from signin.services import passwords_off_for

RULE = re.compile(r"^(?P<group>.+?)\s*:\s*(?P<what>.+)$")
ON = re.compile(r"^(?P<role>\w+)\s+on\s+(?P<project>.+)$", re.IGNORECASE)


def rules_from_text(text: str, *, organization: Organization) -> list[dict]:
    """``labeling-admins: admin`` and ``vision-reviewers: reviewer on Street signs`` lines into
    rules; an error names the line."""
    projects = {
        project.name.lower(): project.pk for project in organization.projects.only("pk", "name")
    }
    rules = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = RULE.match(line)
        if not match:
            raise ValidationError(
                f"Line {number}: write “group: admin” or “group: role on project”."
            )
        group, what = match["group"].strip(), match["what"].strip()
        if what.lower() == "admin":
            rules.append({"group": group, "admin": True})
            continue
        on = ON.match(what)
        if not on or on["role"].lower() not in Role.values:
            raise ValidationError(
                f"Line {number}: the role is manager, reviewer or contributor, then “on” and a "
                "project's name."
            )
        project = projects.get(on["project"].strip().lower())
        if project is None:
            raise ValidationError(f"Line {number}: no project named {on['project'].strip()!r}.")
        rules.append({"group": group, "project": project, "role": on["role"].lower()})
    return rules


def rules_as_text(rules: list[dict], *, organization: Organization) -> str:
    names = dict(organization.projects.values_list("pk", "name"))
    lines = []
    for rule in rules:
        if rule.get("admin"):
            lines.append(f"{rule['group']}: admin")
        if "project" in rule and rule["project"] in names:
            lines.append(f"{rule['group']}: {rule['role']} on {names[rule['project']]}")
    return "\n".join(lines)


class ProviderConfigForm(forms.Form):
    display_name = forms.CharField(
        label="Provider's name", max_length=80, help_text="On the button: “Sign in with …”."
    )
    issuer = forms.CharField(
        label="Issuer URL",
        max_length=500,
        help_text="Its discovery document is read from …/.well-known/openid-configuration.",
    )
    client_id = forms.CharField(label="Client ID", max_length=255)
    client_secret = forms.CharField(
        label="Client secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again; leave empty to keep the current one.",
    )
    scopes = forms.CharField(max_length=255, initial=DEFAULT_SCOPES)
    allowed_domains = forms.CharField(
        label="Allowed email domains",
        help_text="Separated by spaces or commas, e.g. example.com example.org.",
    )
    groups_claim = forms.CharField(label="Groups claim", max_length=80, initial="groups")
    role_rules = forms.CharField(
        label="Role rules",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: “labeling-admins: admin” or “vision-team: reviewer on Street "
        "signs”. Anyone else becomes a member.",
    )
    recheck_minutes = forms.IntegerField(
        label="Check with the provider every (minutes)",
        min_value=1,
        max_value=1440,
        initial=DEFAULT_RECHECK_MINUTES,
    )
    passwords_off = forms.BooleanField(
        label="Passwords off: members sign in only through the provider",
        required=False,
        help_text="Possible once an admin of the organization has signed in through the provider.",
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)

    def __init__(self, *args, organization: Organization, config: ProviderConfig | None, **kw):
        if config is not None and "initial" not in kw:
            kw["initial"] = {
                "display_name": config.display_name,
                "issuer": config.issuer,
                "client_id": config.client_id,
                "scopes": config.scopes,
                "allowed_domains": " ".join(config.allowed_domains),
                "groups_claim": config.groups_claim,
                "role_rules": rules_as_text(config.role_rules, organization=organization),
                "recheck_minutes": config.recheck_minutes,
                "passwords_off": config.passwords_off,
                "enabled": config.enabled,
            }
        super().__init__(*args, **kw)
        self.organization = organization
        if config is None:
            self.fields["client_secret"].help_text = "Stored encrypted and never shown again."

    def clean_role_rules(self) -> list[dict]:
        return rules_from_text(self.cleaned_data["role_rules"], organization=self.organization)

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("client_secret")
        return data


class FindProviderForm(forms.Form):
    email = forms.EmailField(label="Work email")


class SignInForm(AuthenticationForm):
    """Django's log-in form, with a clear word for people whose organization turned passwords
    off (the backend refuses them in any case), and a username no longer than the user model
    allows: Django's form only sets the field's ``max_length`` after building it (so no
    validator checks it), and a longer name went on to ``authenticate()``, whose failure the
    sign-in throttle (django-axes) stores in a ``varchar(255)``: a 500 on PostgreSQL."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(validators.MaxLengthValidator(username.max_length))

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            User = get_user_model()
            user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
            provider = passwords_off_for(user)
            if provider is not None:
                raise ValidationError(
                    f"{provider.organization.name} signs in with {provider.display_name}, not "
                    "with a password: use “Sign in with your organization” below.",
                    code="passwords_off",
                )
        return super().clean()


class ResetForm(PasswordResetForm):
    """Django's reset form; no mail goes to a person whose organization turned passwords off."""

    def get_users(self, email):
        for user in super().get_users(email):
            if passwords_off_for(user) is None:
                yield user
