from django.apps import AppConfig


class GenaiConfig(AppConfig):
    """Live mode: a conversation project connected to the customer's own model.

    Its own app because it is the one part of LabelHub that calls out to a model with a secret
    key: the connection, the secret and the streaming proxy stay in one place, depending on
    ``labelhub`` (projects, roles) and ``annotation`` (tasks, assignments, the webhooks' address
    guard), and nothing depends on it (leave it out of INSTALLED_APPS and live mode is gone).
    """

    name = "genai"
    verbose_name = "Live model connections"
    default_auto_field = "django.db.models.BigAutoField"
