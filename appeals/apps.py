from django.apps import AppConfig


class AppealsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "appeals"
    verbose_name = "Appeals"

    def ready(self) -> None:
        from annotation.events import on_refusal_action
        from appeals.my_work import my_work_rows, my_work_summary_parts, pause_appeal_action
        from quality.events import on_my_work_rows, on_my_work_summary

        # The work screen offers "Appeal this pause" beside the pause; My work gets each
        # rejected answer's appeal (or the form to file one), the list of appeals, earnings.
        on_refusal_action(pause_appeal_action)
        on_my_work_rows(my_work_rows)
        on_my_work_summary(my_work_summary_parts)
