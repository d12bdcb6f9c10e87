"""A tiny task kind for queue tests: the answer is one label, scored by exact match.

The real kinds' scoring is built elsewhere; the queue only needs the interface.
"""

from django.core.exceptions import ValidationError

from kinds import EditorSpec, TaskKind, installed_paths


def kinds_with_exact() -> list[str]:
    """The installed kinds and this one, for ``settings.LABELHUB_TASK_KINDS``."""
    return [*installed_paths(), "tests.annotation.kinds.ExactKind"]


class ExactKind(TaskKind):
    name = "exact"
    label = "Exact label (tests)"
    editor = EditorSpec(template="exact/editor.html", module="js/editors/exact.js")

    def default_schema(self) -> dict:
        return {"labels": ["cat", "dog"]}

    def clean_schema(self, schema: dict) -> dict:
        return schema

    def clean_data(self, data: dict, *, schema: dict) -> dict:
        return data

    def clean_result(self, result: dict, *, schema: dict, data: dict) -> dict:
        label = result.get("label") if isinstance(result, dict) else None
        if label not in schema.get("labels", []):
            raise ValidationError({"label": [f"Pick one of {schema.get('labels')}."]})
        return {"label": label}

    def score(self, result: dict, gold: dict, *, schema: dict, quality: dict) -> float:
        return 1.0 if result.get("label") == gold.get("label") else 0.0
