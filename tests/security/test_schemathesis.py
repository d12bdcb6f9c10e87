"""Schemathesis against the published OpenAPI schema: generated requests never cause a 500.

The schema is the one served at ``/api/v1/schema/`` (drf-spectacular's generator, built once at
import). Every operation gets a few generated examples (bounded, derandomized so the suite is
repeatable), sent through the WSGI app as a manager holding a token, against real rows. Only one
check is asserted: no 5xx. Contract details are covered by the API tests.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from annotation import queue
from labelhub.accounts import api_token_issue
from labelhub.models import Role
from tests.factories import make_project, make_task, make_user

APP = get_wsgi_application()
SCHEMA = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
EXAMPLES = 6


@pytest.fixture
def auth(db):
    """A manager's and contributor's project with tasks; the manager's token for every request.

    The requests run in the test's transaction: Django's "close old connections" hook, which would
    end it, is held off while they run (as Django's own test client does).
    """
    boss, ana = make_user(), make_user()
    project = make_project(members={boss: Role.MANAGER, ana: Role.CONTRIBUTOR})
    for _ in range(3):
        make_task(project=project)
    assignment = queue.assignment_claim_next(project=project, contributor=ana)
    ids = {"project_id": project.pk, "task_id": assignment.task_id, "assignment_id": assignment.pk}
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Token {api_token_issue(user=boss).key}"}, ids
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_server_error(case, auth):
    headers, ids = auth
    # Aim at real rows, so that the generated bodies get past "not found" into the views
    # (random ids are only 404s; the permission matrix covers those).
    if case.path_parameters:
        for name in case.path_parameters:
            if name in ids:
                case.path_parameters[name] = ids[name]
    case.call_and_validate(app=APP, headers=headers, checks=[not_a_server_error])
