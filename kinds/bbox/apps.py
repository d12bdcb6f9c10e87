from django.apps import AppConfig


class BboxConfig(AppConfig):
    """The bbox task kind: one line in ``INSTALLED_APPS`` installs it (see ``kinds``)."""

    name = "kinds.bbox"
    verbose_name = "Task kind: bounding boxes"
    task_kind = "kinds.bbox.kind.BoundingBoxKind"
