from django.apps import AppConfig
from django.db import transaction


class BackendsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "backends"
    verbose_name = "Model backends"

    def ready(self) -> None:
        from annotation.events import tasks_imported_hook
        from backends.weights import model_weights
        from quality.events import answer_weights_hook

        answer_weights_hook.connect(model_weights)
        tasks_imported_hook.connect(_prelabel_after_import)


def _prelabel_after_import(*, project_id: int) -> None:
    from backends.services import runs_after_import
    from labelhub.models import Project

    project = Project.objects.filter(pk=project_id).first()
    if project is not None:
        with transaction.atomic():
            runs_after_import(project=project)
