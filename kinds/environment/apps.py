from django.apps import AppConfig


class EnvironmentKindConfig(AppConfig):
    """The ``environment`` task kind: RL environment tasks written by experts (see kind.py)."""

    name = "kinds.environment"
    verbose_name = "Task kind: RL environment authoring"
    task_kind = "kinds.environment.kind.EnvironmentKind"
