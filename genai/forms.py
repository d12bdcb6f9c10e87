from django import forms


class LiveModelForm(forms.Form):
    """The model connection of a live project. The API key is write-only: the field is always
    shown empty, and left empty it keeps the stored key."""

    enabled = forms.BooleanField(
        label="Live mode on", required=False, initial=True,
        help_text="Off: contributors judge the stored conversations only.",
    )  # fmt: skip
    base_url = forms.URLField(
        label="Base URL",
        max_length=500,
        assume_scheme="https",
        help_text="As the OpenAI SDKs take it, e.g. https://models.example.com/v1; "
        "LabelHub calls …/chat/completions with stream on.",
    )
    model = forms.CharField(label="Model name", max_length=200)
    api_key = forms.CharField(
        label="API key",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Sent as a Bearer token. Stored, never shown again: leave empty to keep it.",
    )
    remove_key = forms.BooleanField(label="Remove the stored key", required=False)
    temperature = forms.FloatField(
        min_value=0.0, max_value=2.0, initial=0.7, widget=forms.NumberInput(attrs={"step": "0.1"})
    )
    max_tokens = forms.IntegerField(label="Max tokens per reply", min_value=1, max_value=32_000,
                                    initial=1024)  # fmt: skip
