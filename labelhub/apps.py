from django.apps import AppConfig
from django.core.signals import request_started


class LabelhubConfig(AppConfig):
    name = "labelhub"
    verbose_name = "LabelHub core"

    def ready(self) -> None:
        from labelhub.dropped_connections import close_dropped

        request_started.connect(close_dropped, dispatch_uid="labelhub.close_dropped")
