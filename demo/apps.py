from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo: ``manage.py seed_demo`` and its content (photos, clips, ranking prompts, the
    simulated contributors). It sits at the top of the layers: it uses every app."""

    name = "demo"
    verbose_name = "Demo data"
