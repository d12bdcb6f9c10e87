"""Forms of the manager's screens. They only shape input: the services decide what is valid.

The schema builder is not a Django form: its rows come and go, so :func:`schema_from_post` asks
the project's kind to read the posted rows into a schema (for the kind to check) and
:func:`builder_rows` has it turn a schema and its errors back into rows for its template.
"""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

import kinds
from labelhub.models import Organization, Role
from labelhub.quality_bars import QUEUE_ORDER_HELP, REJECTED_TO_HELP, REVIEW_POLICY_HELP, bars_for


def add_service_errors(form: forms.Form, error: ValidationError, *, prefix: str = "") -> None:
    """Put a service's path-keyed errors on the form's fields (others on the form itself)."""
    for path, messages in error.message_dict.items():
        name = path.removeprefix(prefix) if prefix else path
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{path}: {message}")


class SaidLimitCharField(forms.CharField):
    """A text field whose length limit is said beside it and checked on save, never enforced by
    the browser's ``maxlength`` (which cuts a pasted name short without a word)."""

    def __init__(self, *, max_length: int, help_text: str = "", **kwargs) -> None:
        said = f"Up to {max_length} characters."
        super().__init__(max_length=max_length, help_text=f"{help_text} {said}".strip(), **kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class ProjectCreateForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), empty_label=None)
    name = SaidLimitCharField(max_length=200)
    kind = forms.ChoiceField(choices=[], widget=forms.RadioSelect)

    def __init__(self, *args, organizations: list[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.filter(
            pk__in=[org.pk for org in organizations]
        )
        if len(organizations) == 1:
            self.fields["organization"].initial = organizations[0]
            self.fields["organization"].widget = forms.HiddenInput()
        self.fields["kind"].choices = [
            (kind.name, f"{kind.label}: {kind.description}") for kind in kinds.registry().values()
        ]


class ProjectGeneralForm(forms.Form):
    name = SaidLimitCharField(max_length=200)
    kind = forms.ChoiceField(
        choices=[], help_text="The kind can change only while the project has no tasks."
    )

    def __init__(self, *args, locked_kind: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds.choices()
        self.fields["kind"].disabled = locked_kind


class InstructionsForm(forms.Form):
    instructions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="Markdown: **bold**, *italic*, lists, links, tables and code blocks.",
    )


class QualityForm(forms.Form):
    """One field per quality bar, each with its plain-words explanation as help text."""

    review_policy = forms.ChoiceField(
        choices=[(key, text) for key, text in REVIEW_POLICY_HELP.items()],
        widget=forms.RadioSelect,
        help_text="How much of each contributor's work a reviewer checks.",
    )
    queue_order = forms.ChoiceField(
        choices=list(QUEUE_ORDER_HELP.items()),
        widget=forms.RadioSelect,
        help_text="The order contributors get tasks in.",
    )

    rejected_to = forms.ChoiceField(
        label="A rejected answer goes to",
        choices=list(REJECTED_TO_HELP.items()),
        widget=forms.RadioSelect,
        help_text="Who answers a task again after a reviewer rejects an answer.",
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        for bar in bars_for(kind):
            field_class = forms.IntegerField if bar.kind is int else forms.FloatField
            self.fields[bar.name] = field_class(
                label=bar.label,
                help_text=bar.help,
                widget=forms.NumberInput(attrs={"step": bar.step, "min": bar.low, "max": bar.high}),
            )


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.CONTRIBUTOR)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


# --- schema builder ---------------------------------------------------------------------------


def schema_from_post(*, kind: str, post: QueryDict) -> dict | None:
    """The schema the builder's fields describe (unchecked: the kind checks it); ``None`` when
    the kind has no builder (its schema is edited as JSON only)."""
    task_kind = kinds.find(kind)
    if task_kind is None or task_kind.schema_builder is None:
        return None
    return task_kind.schema_from_form(post)


def builder_rows(*, kind: str, schema: dict, errors: dict[str, list[str]]) -> dict:
    """What the schema section shows: the kind's builder (template, rows with their errors), the
    other errors by setting, and the JSON view."""
    task_kind = kinds.find(kind)
    builder = task_kind.schema_builder if task_kind else None
    form = task_kind.schema_form(schema=schema, errors=errors) if builder else None
    used = form.used if form else frozenset()
    context: dict = {
        **(form.context if form else {}),
        "kind": kind,
        "schema": schema,
        "template": builder.template if builder else None,
        "heading": builder.heading if builder else "Schema",
        "save_label": builder.save_label if builder else "Save JSON",
    }
    if task_kind is None:
        errors = {**errors, "kind": [f"The task kind {kind!r} is not installed here."]}
    context["errors"] = {path: messages for path, messages in errors.items() if path not in used}
    context["json"] = json.dumps(schema, indent=2)
    return context


def builder_edit(*, kind: str, schema: dict, action: str) -> dict:
    """Add or remove a row without saving (the builder's "Add label" and "Remove" buttons)."""
    task_kind = kinds.find(kind)
    if task_kind is None or task_kind.schema_builder is None:
        return schema
    return task_kind.schema_form_edit(schema=dict(schema), action=action)
