from django import forms

from exports.selectors import ExportOptions


class ExportForm(forms.Form):
    format = forms.ChoiceField(label="Format", widget=forms.RadioSelect)
    accepted_only = forms.BooleanField(
        label="Accepted results only",
        required=False,
        initial=True,
        help_text="Off: tasks not yet accepted give their current consensus or answer.",
    )
    include_gold = forms.BooleanField(
        label="Include gold tasks", required=False, help_text="With their known answers."
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="Until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    style = forms.ChoiceField(
        label="DPO style",
        required=False,
        initial="auto",
        help_text="One format for the whole file, as TRL's DPOTrainer needs. DPO pairs only.",
    )
    val_split = forms.FloatField(
        label="Share held out for validation",
        required=False,
        initial=0,
        min_value=0,
        max_value=0.5,
        widget=forms.NumberInput(attrs={"step": "0.05"}),
        help_text="YOLO and VOC: 0.2 puts 1 task in 5 in val (the same tasks every time), the "
        "rest in train. 0: no split.",
    )
    images = forms.BooleanField(
        label="Include the images",
        required=False,
        help_text="YOLO and VOC: the uploaded images go in the zip (images given by URL are "
        "listed in images_missing.txt).",
    )

    def __init__(self, *args, formats, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [(fmt.name, fmt.label) for fmt in formats]
        self.fields["format"].initial = formats[0].name
        for option in ("style", "val_split", "images"):  # only where a format reads it
            if not any(option in fmt.options for fmt in formats):
                del self.fields[option]
        if "style" in self.fields:  # the values the project's formats take, the first the default
            styles = dict(choice for fmt in formats for choice in fmt.styles)
            self.fields["style"].choices = list(styles.items())
            self.fields["style"].initial = next(iter(styles), None)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end of the range is before its start.")
        return data

    def options(self) -> ExportOptions:
        data = self.cleaned_data
        return ExportOptions(
            accepted_only=data["accepted_only"],
            include_gold=data["include_gold"],
            since=data.get("since"),
            until=data.get("until"),
            style=data.get("style") or "auto",
            val_split=data.get("val_split") or 0.0,
            images=bool(data.get("images")),
        )
