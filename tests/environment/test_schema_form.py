"""The settings page's form for an environment project's frame: it shows the schema field by
field, saves what is posted through the kind's checks, and says what is wrong beside the field."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from kinds.environment.kind import EnvironmentKind
from labelhub.models import Role
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db

KIND = EnvironmentKind()
POSTED = {
    "verifier_kinds": ["checks", "rubric"],
    "tools": "bash\nsql_query\n",
    "difficulties": "warm-up, tricky, expert",
    "pass_mark": "0.8",
    "limits.files": "50",
    "limits.bytes": "100000",
    "limits.seconds": "120",
    "limits.memory_mb": "1024",
    "limits.disk_mb": "64",
    "runtime": "python:3.12-slim",
}


def test_the_form_round_trips_to_the_kinds_schema():
    schema = KIND.clean_schema(KIND.default_schema())
    form = KIND.schema_form(schema=schema, errors={})
    # What the form shows, posted back unchanged, is the same schema.
    post = (
        RequestFactory()
        .post(
            "/",
            {
                "verifier_kinds": [k for k, _, on in form.context["verifier_kinds"] if on],
                "tools": form.context["tools_text"],
                "difficulties": form.context["difficulties_text"],
                "pass_mark": str(schema["pass_mark"]),
                **{f["name"]: str(f["value"]) for f in form.context["limit_fields"]},
                "runtime": schema["runtime"],
            },
        )
        .POST
    )
    assert KIND.clean_schema(KIND.schema_from_form(post)) == schema


def test_the_settings_page_saves_the_frame_and_refuses_by_field(client):
    manager = make_user()
    project = make_project(kind="environment", members={manager: Role.MANAGER})
    client.force_login(manager)
    page = client.get(reverse("projects:settings", args=[project.pk])).content.decode()
    assert "The authors&#x27; frame" in page or "The authors' frame" in page
    assert 'name="limits.disk_mb" value="100"' in page
    url = reverse("projects:settings-schema", args=[project.pk])

    bad = client.post(
        url,
        {**POSTED, "limits.seconds": "9999", "verifier_kinds": ["rubric"], "action": "save"},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 422
    shown = bad.content.decode()
    assert 'data-testid="env-schema-error-seconds">A whole number from 1 to 900.' in shown
    assert "checks or script must be allowed" in shown
    project.refresh_from_db()
    assert project.schema == KIND.default_schema()

    saved = client.post(url, {**POSTED, "action": "save"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200, saved.content.decode()[:500]
    project.refresh_from_db()
    assert project.schema == {
        "verifier_kinds": ["checks", "rubric"],
        "tools": ["bash", "sql_query"],
        "difficulties": ["warm-up", "tricky", "expert"],
        "pass_mark": 0.8,
        "limits": {"files": 50, "bytes": 100000, "seconds": 120, "memory_mb": 1024, "disk_mb": 64},
        "runtime": "python:3.12-slim",
    }
    again = client.get(reverse("projects:settings", args=[project.pk])).content.decode()
    assert "warm-up\ntricky\nexpert" in again
