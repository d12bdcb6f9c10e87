from django.apps import AppConfig


class PayConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pay"
    verbose_name = "Pay"

    def ready(self) -> None:
        from labelhub.api.views import project_figure_register
        from pay import ledger
        from pay.selectors import fair_pay_figure
        from pay.views import fair_pay_panel
        from quality.events import on_answers_judged, on_answers_rejected
        from quality.views import dashboard_panel_register

        on_answers_judged(ledger.answers_judged)
        on_answers_rejected(ledger.answers_rejected)
        project_figure_register("fair_pay", fair_pay_figure)
        dashboard_panel_register(fair_pay_panel)
