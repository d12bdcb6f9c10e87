"""Forms of the People pages and of accepting an invitation; the services decide what is valid."""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import UsernameField

from labelhub.models import Organization, Project

ROLE_CHOICES = [
    ("contributor", "Contributor on the project"),
    ("reviewer", "Reviewer on the project"),
    ("manager", "Manager of the project"),
    ("member", "Member (no project yet)"),
    ("admin", "Organization admin"),
]


class _ProjectChoice(forms.Form):
    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.filter(
            organization=organization, archived_at__isnull=True
        ).order_by("name")


class InviteForm(_ProjectChoice):
    emails = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "ana@example.com, ben@example.com"}),
        label="Email addresses",
        help_text="One or many: one a line, or separated by commas.",
    )
    file = forms.FileField(
        required=False,
        label="…or a CSV file",
        help_text="Columns email, role, project (an id or a name); empty cells take the choices "
        "below.",
    )
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="contributor")
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="No project"
    )


class LinkForm(_ProjectChoice):
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="contributor")
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="No project"
    )
    max_uses = forms.IntegerField(
        required=False, min_value=1, max_value=10_000, label="Uses", help_text="Empty: no limit."
    )
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=90, initial=7, label="Expires after (days)"
    )


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    admin_email = forms.EmailField(
        label="Admin's email",
        help_text="Whoever has confirmed this address becomes the admin; else it is invited.",
    )


class NewPersonForm(forms.Form):
    """A new account from an invitation: Django's username rules and password validators."""

    full_name = forms.CharField(max_length=150, required=False, label="Your name")
    username = UsernameField(max_length=150, help_text="Letters, digits and @ . + - _ only.")
    email = forms.EmailField(required=False)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_email = email
        if email:
            del self.fields["email"]
        else:
            self.fields["email"].required = True
            self.fields["email"].help_text = "We send a link to it to finish your account."
        self.fields["username"].validators.append(get_user_model().username_validator)

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            User = get_user_model()
            probe = User(
                username=data.get("username") or "",
                email=self.fixed_email or data.get("email") or "",
                first_name=data.get("full_name") or "",
            )
            try:
                password_validation.validate_password(first, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


# --- profiles, skills and requirements --------------------------------------------------------

LEVEL_CHOICES = [("", "—"), ("1", "Working"), ("2", "Professional"), ("3", "Expert")]


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=150, required=False, label="Display name")
    languages = forms.CharField(
        max_length=200,
        required=False,
        help_text="Language codes, separated by commas: en, de, pt-BR.",
    )
    time_zone = forms.CharField(
        max_length=64, required=False, label="Time zone", help_text="e.g. Europe/Lisbon"
    )


class SkillCreateForm(forms.Form):
    name = forms.CharField(max_length=60, help_text="Short, e.g. medicine, python, legal-de.")
    description = forms.CharField(max_length=200, required=False)


def level_fields(skills, *, initial: dict[int, int] | None = None, label_suffix: str = "") -> dict:
    """One level choice per skill of the organization (``skill_<id>``)."""
    return {
        f"skill_{skill.pk}": forms.ChoiceField(
            choices=LEVEL_CHOICES,
            required=False,
            label=f"{skill.name}{label_suffix}",
            help_text=skill.description,
            initial=str((initial or {}).get(skill.pk, "")),
        )
        for skill in skills
    }


class SkillLevelsForm(forms.Form):
    def __init__(self, *args, skills, initial_levels: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.skills = list(skills)
        self.fields.update(level_fields(self.skills, initial=initial_levels))

    def levels(self) -> dict:
        """{skill: level or None} from the cleaned data."""
        return {
            skill: int(self.cleaned_data[f"skill_{skill.pk}"] or 0) or None for skill in self.skills
        }


class RequirementsForm(forms.Form):
    languages = forms.CharField(
        max_length=200, required=False, help_text="Codes a contributor must speak: en, de."
    )
    is_open = forms.BooleanField(
        required=False,
        label="Open to join",
        help_text="Every member who meets these requirements sees the project on their home page "
        "and may join it as a contributor (qualification tasks still apply).",
    )

    def __init__(self, *args, skills, requirements, **kwargs):
        super().__init__(*args, **kwargs)
        self.skills = list(skills)
        current = {r.skill_id: r for r in requirements}
        levels = level_fields(
            self.skills,
            initial={pk: r.min_level for pk, r in current.items()},
            label_suffix=" at least",
        )
        for skill in self.skills:  # each skill's level, then whether it must be verified
            self.fields[f"skill_{skill.pk}"] = levels[f"skill_{skill.pk}"]
            self.fields[f"verified_{skill.pk}"] = forms.BooleanField(
                required=False,
                label=f"{skill.name}: verified only",
                initial=bool(current.get(skill.pk) and current[skill.pk].verified_only),
            )
