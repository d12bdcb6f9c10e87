from django.apps import AppConfig


class TranscriptionConfig(AppConfig):
    """The transcription task kind: one line in ``INSTALLED_APPS`` installs it (see ``kinds``)."""

    name = "kinds.transcription"
    verbose_name = "Task kind: transcription"
    task_kind = "kinds.transcription.kind.TranscriptionKind"
