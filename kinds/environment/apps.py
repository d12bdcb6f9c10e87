from django.apps import AppConfig


class EnvironmentKindConfig(AppConfig):
    """The ``environment`` task kind: RL environment tasks written by experts (see kind.py)."""

    name = "kinds.environment"
    label = "kind_environment"
    verbose_name = "RL environment authoring"
    task_kind = "kinds.environment.kind.EnvironmentKind"
