from django.apps import AppConfig


class AnnotationConfig(AppConfig):
    name = "annotation"
    verbose_name = "Annotation"

    def ready(self) -> None:
        from annotation.tasks import rank_after_order_change
        from labelhub import events

        events.queue_order.connect(rank_after_order_change)
        # Managers' GET /projects/{id}/: the task figures of the task list (gold apart, skips).
        events.project_figures.connect(task_figures, label="tasks")


def task_figures(*, project) -> dict:
    from annotation.selectors import task_counts_for

    return task_counts_for(project=project).as_dict()
