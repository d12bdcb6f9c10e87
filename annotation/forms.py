"""Forms of the annotation pages."""

from django import forms


class ImportForm(forms.Form):
    """The import's options: what a file of answers for existing tasks becomes (a COCO file's
    boxes), for kinds that read one (``TaskKind.answer_file``); other kinds have no option."""

    coco = forms.ChoiceField(
        required=False,
        choices=[("predictions", "as predictions"), ("gold", "as gold answers")],
        label="A COCO file's boxes go in",
        help_text="Only used for a COCO file: boxes are matched to tasks by image file name.",
    )

    def __init__(self, *args, kind=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        answer_file = kind.answer_file if kind is not None else None
        if answer_file is None:
            del self.fields["coco"]
        else:  # the field keeps its name: it is the API's ``coco`` option too
            self.fields["coco"].label = f"A {answer_file.name} file's {answer_file.holds} go in"
            self.fields["coco"].help_text = (
                f"Only used for a {answer_file.name} file: {answer_file.holds} are matched to "
                "tasks by file name."
            )
        formats = kind.import_formats() if kind is not None else ()
        if formats:
            self.fields["format"] = forms.ChoiceField(
                required=False,
                choices=[("", "detect each row's format"), *((f.name, f.label) for f in formats)],
                label="The rows are in",
                help_text="Detected row by row unless you name it.",
            )
