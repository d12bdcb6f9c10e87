"""Forms of the annotation pages."""

from django import forms


class ImportForm(forms.Form):
    coco = forms.ChoiceField(
        required=False,
        choices=[("predictions", "as predictions"), ("gold", "as gold answers")],
        label="A COCO file's boxes go in",
        help_text="Only used for a COCO file: boxes are matched to tasks by image file name.",
    )
