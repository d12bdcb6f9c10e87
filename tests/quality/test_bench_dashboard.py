import io
import json

import pytest
from django.core.management import call_command

from tests.factories import make_project

pytestmark = pytest.mark.django_db


def test_bench_dashboard_times_the_page_and_reports_a_json_line():
    project = make_project()
    out = io.StringIO()
    call_command("bench_dashboard", project=project.pk, runs=3, stdout=out)
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["bench"] == "dashboard"
    assert 0 < figures["p50_ms"] <= figures["max_ms"]
    assert figures["queries"] > 0
