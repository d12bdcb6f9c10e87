"""``client/bench.py`` is the source of the figures in docs/client.md: what it starts must exist,
or the figures cannot be measured again (it once named a WSGI module that had moved)."""

import importlib
import importlib.util

from django.conf import settings
from django.utils.module_loading import import_string


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", settings.BASE_DIR / "client/bench.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bench_starts_the_real_wsgi_application_and_task_backend():
    bench = load_bench()
    module, _, name = bench.WSGI_APPLICATION.partition(":")
    assert callable(getattr(importlib.import_module(module), name))
    backend = import_string(bench.TASKS_BACKEND)
    assert backend.__name__ == "DatabaseBackend"
