from django.apps import AppConfig


class EvalsConfig(AppConfig):
    name = "evals"
    verbose_name = "Evals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from evals.audits import audit_judge_buttons
        from sandbox.events import audit_rubric_actions

        # An environment task's audit page offers the organization's judges to grade claims.
        audit_rubric_actions.connect(audit_judge_buttons)
