"""A kind from outside LabelHub, registered by settings alone: the screens around it (settings,
exports, review, dashboard) must work from what its class says, with no line of LabelHub changed.
"""

from kinds import AlphaQuestion, ReviewViews, installed_paths
from kinds.formats import ExportFormat
from kinds.streams import json_line
from tests.annotation.kinds import ExactKind


def plugin_kinds() -> list[str]:
    """The installed kinds and two from outside, for ``settings.LABELHUB_TASK_KINDS``."""
    return [
        *installed_paths(),
        "tests.annotation.kinds.ExactKind",
        "tests.kinds.plugin_kind.GradeKind",
    ]


def votes(items, context):
    """One line per task: the accepted label and every contributor's, with the schema's labels."""
    for item in items():
        yield json_line(
            {
                "task": item.task_id,
                "label": item.result.get("label"),
                "answers": {a.contributor: a.result.get("label") for a in item.answers},
                "labels": context.schema.get("labels"),
            }
        )


class GradeKind(ExactKind):
    """The exact-label kind plus a grade from 1 to 3, and everything the screens may ask."""

    name = "grade"
    label = "Grade (tests)"
    review_template = "transcription/review.html"  # an existing partial: shows JSON
    has_alpha = True

    def export_formats(self):
        return (
            ExportFormat(
                "votes", "Votes (JSONL)", "application/x-ndjson", "jsonl", write=votes, answers=True
            ),
        )

    def review_summary(self, result, *, schema):
        return f"label {result.get('label')}"

    def review_views(self, *, results, proposal, data, media_meta, schema):
        return ReviewViews(
            shared={"count": len(results)}, answers=[{"n": i} for i in range(len(results))]
        )

    def alpha_questions(self, tasks, *, schema):
        return [
            AlphaQuestion("Grade", [[r.get("grade") for r in rs] for _d, rs in tasks], "ordinal")
        ]
