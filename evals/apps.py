from django.apps import AppConfig


class EvalsConfig(AppConfig):
    name = "evals"
    verbose_name = "Evals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from evals.audits import audit_judge_buttons
        from evals.services import answers_judged_recalibrate
        from quality.events import judged
        from sandbox.events import audit_rubric_actions

        # An environment task's audit page offers the organization's judges to grade claims.
        audit_rubric_actions.connect(audit_judge_buttons)
        # People's grades on what a calibrated judge graded measure it again (drift).
        judged.connect(answers_judged_recalibrate)
