from django.apps import AppConfig


class RankingConfig(AppConfig):
    """The ranking task kind: one line in ``INSTALLED_APPS`` installs it (see ``kinds``)."""

    name = "kinds.ranking"
    verbose_name = "Task kind: preference ranking"
    task_kind = "kinds.ranking.kind.RankingKind"
