from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Quality"

    def ready(self) -> None:
        from annotation.events import on_annotation_submitted
        from labelhub.api.views import project_figure_register
        from quality.judging import backlog_for
        from quality.tasks import after_submit

        on_annotation_submitted(after_submit)
        project_figure_register("judging", lambda project: backlog_for(project=project).as_dict())
