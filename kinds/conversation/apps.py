from django.apps import AppConfig


class ConversationConfig(AppConfig):
    """The conversation task kind: one line in ``INSTALLED_APPS`` installs it (see ``kinds``)."""

    name = "kinds.conversation"
    verbose_name = "Task kind: conversations"
    task_kind = "kinds.conversation.kind.ConversationKind"
