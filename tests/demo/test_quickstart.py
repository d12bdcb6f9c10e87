"""`make run` from a fresh clone to the first page: what it installs, what each process pays at
start-up, and the bench that times it (bench_quickstart)."""

import io
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, reset_queries
from packaging.requirements import Requirement

from labelhub.models import Project

ROOT = Path(settings.BASE_DIR)


def test_runtime_dependencies_include_pytest_for_environment_verifiers():
    """make run installs the runtime dependencies only, and the demo's bug-fix task is proven by
    a pytest verifier run with LabelHub's own interpreter: without pytest its proof fails and
    seed_demo stops."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {Requirement(line).name for line in project["dependencies"]}
    assert "pytest" in runtime


def test_start_up_leaves_scipy_unimported():
    """scipy.stats and scipy.optimize cost more than the rest of Django's start with its system
    checks; migrate, seed_demo, the server and its autoreloader would each pay them."""
    code = (
        "import sys, django; django.setup(); "
        "from django.core import checks; checks.run_checks(); "
        "print(sorted(m for m in sys.modules if m.startswith('scipy')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true", "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]", done.stdout


@pytest.mark.django_db
def test_seed_demo_keeps_no_statement_log_when_debug_is_on(settings):
    """make run seeds with DEBUG on, where Django would log every statement (and on SQLite run
    one more to quote its parameters)."""
    settings.DEBUG = True
    reset_queries()
    call_command("seed_demo", tasks=40, stdout=io.StringIO())
    logged = list(connection.queries)
    assert Project.objects.filter(tasks__isnull=False).distinct().count() >= 5  # it made them
    assert logged == []


def test_bench_quickstart_times_each_step_to_the_first_page():
    out = io.StringIO()
    call_command("bench_quickstart", tasks=40, stdout=out)
    rows = {
        match["step"]: float(match["wall"])
        for match in re.finditer(
            r"^(?P<step>[a-z_ ]+?)\s+(?P<wall>\d+\.\d)\s+\d+\.\d", out.getvalue(), re.M
        )
    }
    assert set(rows) == {"migrate", "seed_demo", "server start", "first page"}, out.getvalue()
    assert all(wall > 0 for wall in rows.values())
    steps = rows["migrate"] + rows["seed_demo"] + rows["server start"]
    assert rows["first page"] == pytest.approx(steps, abs=0.2)
