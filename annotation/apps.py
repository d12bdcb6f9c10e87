from django.apps import AppConfig


class AnnotationConfig(AppConfig):
    name = "annotation"
    verbose_name = "Annotation"

    def ready(self) -> None:
        from annotation.selectors import task_counts_for
        from annotation.tasks import rank_after_order_change
        from labelhub.api.views import project_figure_register
        from labelhub.events import on_queue_order_changed

        on_queue_order_changed(rank_after_order_change)
        # Managers' GET /projects/{id}/: the task figures of the task list (gold apart, skips).
        project_figure_register("tasks", lambda project: task_counts_for(project=project).as_dict())
