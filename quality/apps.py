from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Quality"

    def ready(self) -> None:
        from annotation.events import on_annotation_submitted
        from quality.tasks import after_submit

        on_annotation_submitted(after_submit)
