from django import forms

from pay.models import PayBasis

AMOUNT = {"max_digits": 12, "decimal_places": 4, "min_value": 0}


class ProjectPayForm(forms.Form):
    basis = forms.ChoiceField(
        choices=PayBasis.choices,
        widget=forms.RadioSelect,
        help_text="Per task pays each answer; per hour pays active time, never more than the "
        "task was held (lease time).",
    )
    accepted_rate = forms.DecimalField(
        **AMOUNT, label="Per accepted task", help_text="An answer that stands (or is fixed)."
    )
    rejected_rate = forms.DecimalField(
        **AMOUNT, label="Per rejected task", help_text="An answer a review rejected; may be 0."
    )
    hourly_rate = forms.DecimalField(**AMOUNT, label="Per active hour")
    bonus_per_task = forms.DecimalField(
        **AMOUNT, label="Bonus per accepted task", help_text="0 for no bonus."
    )
    bonus_accuracy = forms.FloatField(
        min_value=0,
        max_value=1,
        label="Bonus for gold accuracy credibly above",
        help_text="A share, e.g. 0.9: the lower end of the person's 95% interval must be above "
        "it when their answer is counted.",
    )

    def __init__(self, *args, levels=None, **kwargs) -> None:
        """``levels`` (a :class:`pay.selectors.PayLevels`) adds an optional accepted rate per
        level, after the accepted rate; empty pays that level the accepted rate."""
        super().__init__(*args, **kwargs)
        self.levels = levels
        if not levels or not levels.levels:
            return
        fields = {}
        for name, field in self.fields.items():
            fields[name] = field
            if name == "accepted_rate":
                for level in levels.levels:
                    fields[self.level_field(level)] = forms.DecimalField(
                        **AMOUNT,
                        required=False,
                        label=f"Per accepted task, {levels.name} {level}",
                        help_text=f"Empty: the rate per accepted task. Answers whose "
                        f"{levels.name} is {level} are paid this instead.",
                    )
        self.fields = fields

    @staticmethod
    def level_field(level: str) -> str:
        return f"level_rate__{level}"

    def values(self) -> dict:
        """The cleaned data in the services' shape: the level fields as ``level_rates``."""
        values = dict(self.cleaned_data)
        if self.levels and self.levels.levels:
            values["level_rates"] = {
                level: values.pop(self.level_field(level), None) for level in self.levels.levels
            }
        return values

    def field_of(self, path: str) -> str | None:
        """The form field a service error's path (``level_rates.hard``) belongs to."""
        if path.startswith("level_rates."):
            name = self.level_field(path.removeprefix("level_rates."))
            return name if name in self.fields else None
        return path if path in self.fields else None


class OrganizationPayForm(forms.Form):
    currency = forms.CharField(
        min_length=3, max_length=3, help_text="ISO 4217, e.g. USD, EUR, INR, KES."
    )
    fair_pay_floor = forms.DecimalField(
        **AMOUNT,
        required=False,
        label="Fair-pay floor per active hour",
        help_text="Managers are warned when a project's median effective pay falls under it. "
        "Empty: no floor.",
    )
