from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Quality"

    def ready(self) -> None:
        from annotation.events import (
            on_annotation_revised,
            on_annotation_submitted,
            on_assignment_note,
        )
        from labelhub.api.views import project_figure_register
        from quality.judging import backlog_for
        from quality.selectors import sent_back_note
        from quality.services import answer_revised
        from quality.tasks import after_submit

        on_annotation_submitted(after_submit)
        # A rejected answer sent back to its author: its correction counts again, and the work
        # screen shows the reviewer's reason above it.
        on_annotation_revised(answer_revised)
        on_assignment_note(sent_back_note)
        project_figure_register("judging", lambda project: backlog_for(project=project).as_dict())
