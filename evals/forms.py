from django import forms

from evals.judging import DEFAULT_TEMPLATE


class EndpointFields(forms.Form):
    base_url = forms.URLField(
        max_length=500, label="Base URL", help_text="OpenAI-compatible, e.g. https://…/v1"
    )
    model = forms.CharField(max_length=200, help_text="The model id the endpoint expects.")
    api_key = forms.CharField(
        required=False,
        max_length=2000,
        label="API key",
        help_text="Stored, never shown; leave empty to keep the stored one.",
        widget=forms.PasswordInput(render_value=False),
    )
    concurrency = forms.IntegerField(min_value=1, max_value=64, initial=4)
    requests_per_minute = forms.IntegerField(min_value=1, max_value=100_000, initial=600)
    timeout_seconds = forms.IntegerField(min_value=1, max_value=600, initial=60)
    max_retries = forms.IntegerField(min_value=0, max_value=10, initial=2)
    max_tokens = forms.IntegerField(min_value=1, max_value=32_000, initial=1024)
    temperature = forms.FloatField(min_value=0, max_value=2, initial=0.0)
    price_input = forms.FloatField(min_value=0, initial=0.0, label="Price per million input tokens")
    price_output = forms.FloatField(
        min_value=0, initial=0.0, label="Price per million output tokens"
    )


class EvalModelForm(EndpointFields):
    name = forms.CharField(max_length=100, help_text="As the leaderboard shows it.")
    version = forms.CharField(max_length=100, required=False)
    field_order = ["name", "version"]


class JudgeForm(EndpointFields):
    name = forms.CharField(max_length=100)
    bar = forms.FloatField(
        min_value=0,
        max_value=1,
        initial=0.75,
        label="Bar (macro-F1)",
        help_text="The lower end of a tag's 95% interval must reach this for the judge to grade "
        "that tag alone.",
    )
    min_items = forms.IntegerField(
        min_value=1, initial=30, help_text="Items graded by both a tag needs before it can pass."
    )
    human_share = forms.FloatField(
        min_value=0,
        max_value=1,
        initial=0.1,
        help_text="Share of the judge's responses that still go to people, for ever (drift).",
    )
    template = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 16}),
        initial=DEFAULT_TEMPLATE,
        label="Grader prompt",
        help_text="{{conversation}}, {{response}} and {{rubric}} are filled in per response; a "
        "change makes a new version, calibrated afresh.",
    )
    field_order = ["name", "template", "bar", "min_items", "human_share"]


class UploadForm(forms.Form):
    file = forms.FileField(help_text="JSON lines, UTF-8.")


class SampleForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=100_000, initial=50)
