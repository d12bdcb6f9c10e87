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
