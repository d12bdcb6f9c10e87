from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Quality"

    def ready(self) -> None:
        from annotation import events as annotation_events
        from labelhub import events as labelhub_events
        from quality.selectors import sent_back_note
        from quality.services import answer_revised
        from quality.tasks import after_submit

        annotation_events.submitted.connect(after_submit)
        # A rejected answer sent back to its author: its correction counts again, and the work
        # screen shows the reviewer's reason above it.
        annotation_events.revised.connect(answer_revised)
        annotation_events.assignment_note.connect(sent_back_note)
        labelhub_events.project_figures.connect(judging_figures, label="judging")


def judging_figures(*, project) -> dict:
    from quality.judging import backlog_for

    return backlog_for(project=project).as_dict()
