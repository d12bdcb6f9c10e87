from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benches (``manage.py bench``, ``bench_import``, ``bench_judging``, ``bench_metrics``,
    ``bench_dashboard``, ``bench_export``, ``loadtest``): each builds a throwaway project of a
    chosen kind and measures one path. Beside the demo, at the top of the layers."""

    name = "bench"
    verbose_name = "Benchmarks"
