"""Forms of the manager's screens. They only shape input: the services decide what is valid.

The schema builder is not a Django form: its rows come and go, so :func:`schema_from_post` reads
the posted rows into a schema (for the kind to check) and :func:`builder_rows` turns a schema and
its errors back into rows for the template.
"""

import json
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from labelhub import kinds
from labelhub.kinds.bbox import PALETTE
from labelhub.kinds.transcription import NORMALISATION_RULES
from labelhub.models import Organization, Role
from labelhub.quality_bars import REVIEW_POLICY_HELP, bars_for


def add_service_errors(form: forms.Form, error: ValidationError, *, prefix: str = "") -> None:
    """Put a service's path-keyed errors on the form's fields (others on the form itself)."""
    for path, messages in error.message_dict.items():
        name = path.removeprefix(prefix) if prefix else path
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{path}: {message}")


class ProjectCreateForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), empty_label=None)
    name = forms.CharField(max_length=200)
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
    name = forms.CharField(max_length=200)
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


@dataclass
class Row:
    """One repeated row of the builder (a label, a criterion) with its own errors."""

    values: dict
    errors: list[str] = field(default_factory=list)


def _int_or_text(value: str) -> int | str | None:
    value = value.strip()
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return value


def _number_or_text(value: str | None) -> float | int | str:
    if value is None:
        return ""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number == int(number) else number


def schema_from_post(*, kind: str, post: QueryDict) -> dict:
    """The schema the builder's fields describe (unchecked: the kind checks it)."""
    if kind == "bbox":
        names = post.getlist("label_name")
        colours = post.getlist("label_colour")
        hotkeys = post.getlist("label_hotkey")
        labels = [
            {
                "name": name,
                "colour": colours[i] if i < len(colours) else "",
                "hotkey": _int_or_text(hotkeys[i]) if i < len(hotkeys) else None,
            }
            for i, name in enumerate(names)
        ]
        return {
            "labels": labels,
            "min_size": _number_or_text(post.get("min_size", "0")),
            "allow_empty": post.get("allow_empty") == "on",
        }
    if kind == "ranking":
        return {
            "mode": post.get("mode", ""),
            "strength_scale": _int_or_text(post.get("strength_scale", "")),
            "criteria": post.getlist("criterion"),
            "rationale": post.get("rationale", ""),
        }
    if kind == "transcription":
        return {
            "media": post.get("media", ""),
            "normalisation": post.getlist("normalisation"),
            "segments": post.get("segments") == "on",
        }
    raise ValueError(f"No builder for {kind!r}")


def builder_rows(*, kind: str, schema: dict, errors: dict[str, list[str]]) -> dict:
    """What the builder template shows: rows with their errors, other errors by setting."""
    used: set[str] = set()
    context: dict = {"kind": kind, "schema": schema}
    if kind == "bbox":
        rows = []
        for i, label in enumerate(schema.get("labels", [])):
            label = label if isinstance(label, dict) else {"name": str(label)}
            row_errors = []
            for path in (f"labels.{i}", f"labels.{i}.name", f"labels.{i}.colour",
                         f"labels.{i}.hotkey"):  # fmt: skip
                row_errors += errors.get(path, [])
                used.add(path)
            rows.append(
                Row(
                    values={
                        "name": label.get("name") or "",
                        "colour": label.get("colour") or PALETTE[i % len(PALETTE)],
                        "hotkey": "" if label.get("hotkey") is None else label.get("hotkey"),
                    },
                    errors=row_errors,
                )
            )
        context["labels"] = rows
        context["hotkeys"] = list(range(1, 10))
    elif kind == "ranking":
        rows = []
        for i, criterion in enumerate(schema.get("criteria", [])):
            used.add(f"criteria.{i}")
            rows.append(Row(values={"name": criterion}, errors=errors.get(f"criteria.{i}", [])))
        context["criteria"] = rows
    elif kind == "transcription":
        context["rules"] = [
            (rule, rule.replace("_", " ").capitalize(), rule in schema.get("normalisation", []))
            for rule in NORMALISATION_RULES
        ]
    context["errors"] = {path: messages for path, messages in errors.items() if path not in used}
    context["json"] = json.dumps(schema, indent=2)
    return context


def builder_edit(*, kind: str, schema: dict, action: str) -> dict:
    """Add or remove a row without saving (the builder's "Add label" and "Remove" buttons)."""
    schema = dict(schema)
    if kind == "bbox":
        labels = list(schema.get("labels", []))
        if action == "add-label":
            labels.append({"name": "", "colour": PALETTE[len(labels) % len(PALETTE)]})
        elif action.startswith("remove-label-"):
            index = int(action.rsplit("-", 1)[1])
            if 0 <= index < len(labels):
                labels.pop(index)
        schema["labels"] = labels
    elif kind == "ranking":
        criteria = list(schema.get("criteria", []))
        if action == "add-criterion":
            criteria.append("")
        elif action.startswith("remove-criterion-"):
            index = int(action.rsplit("-", 1)[1])
            if 0 <= index < len(criteria):
                criteria.pop(index)
        schema["criteria"] = criteria
    return schema
