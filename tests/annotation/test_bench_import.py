"""The import benchmark posts through the real API and cleans up after itself."""

import io
import json

import pytest
from django.core.management import call_command

from annotation.models import Task
from labelhub.models import Organization

pytestmark = pytest.mark.django_db


def test_bench_import_reports_a_json_line_and_leaves_nothing_behind():
    out = io.StringIO()
    call_command("bench_import", tasks=45, batch=20, update=True, stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["tasks"] == 45
    assert result["create_tasks_per_second"] > 0
    assert result["update_tasks_per_second"] > 0
    assert not Task.objects.exists()
    assert not Organization.objects.exists()
