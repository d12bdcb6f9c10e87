from django.apps import AppConfig


class AnnotationConfig(AppConfig):
    name = "annotation"
    verbose_name = "Annotation"

    def ready(self) -> None:
        from annotation.selectors import task_counts_for
        from labelhub.api.views import project_figure_register

        # Managers' GET /projects/{id}/: the task figures of the task list (gold apart, skips).
        project_figure_register("tasks", lambda project: task_counts_for(project=project).as_dict())
