from django.apps import AppConfig


class AppealsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "appeals"
    verbose_name = "Appeals"

    def ready(self) -> None:
        from annotation.events import refusal_action
        from appeals.my_work import my_work_rows, my_work_summary_parts, pause_appeal_action
        from quality import events

        # The work screen offers "Appeal this pause" beside the pause; My work gets each
        # rejected answer's appeal (or the form to file one), the list of appeals, earnings.
        refusal_action.connect(pause_appeal_action)
        events.my_work_rows.connect(my_work_rows)
        events.my_work_summary.connect(my_work_summary_parts)
