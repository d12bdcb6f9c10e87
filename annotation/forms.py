"""Forms of the annotation pages."""

from django import forms


class ImportForm(forms.Form):
    """The import's options: what a COCO file's boxes become, for kinds that take boxes (the
    kind says so: ``takes_coco``); other kinds have no option."""

    coco = forms.ChoiceField(
        required=False,
        choices=[("predictions", "as predictions"), ("gold", "as gold answers")],
        label="A COCO file's boxes go in",
        help_text="Only used for a COCO file: boxes are matched to tasks by image file name.",
    )

    def __init__(self, *args, kind=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if kind is not None and not kind.takes_coco:
            del self.fields["coco"]
        formats = kind.import_formats() if kind is not None else ()
        if formats:
            self.fields["format"] = forms.ChoiceField(
                required=False,
                choices=[("", "detect each row's format"), *((f.name, f.label) for f in formats)],
                label="The rows are in",
                help_text="Detected row by row unless you name it.",
            )
