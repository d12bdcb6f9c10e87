from django.apps import AppConfig


class PayConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pay"
    verbose_name = "Pay"

    def ready(self) -> None:
        from labelhub.events import project_figures
        from pay import ledger
        from pay.selectors import fair_pay_figure
        from pay.views import fair_pay_panel
        from quality import events

        events.judged.connect(ledger.answers_judged)
        events.rejected.connect(ledger.answers_rejected)
        project_figures.connect(fair_pay_figure, label="fair_pay")
        events.dashboard_panels.connect(fair_pay_panel)
