"""Changes to schemas, quality bars, people and reviews are in the audit log, for managers."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from labelhub.models import AuditEvent, OrganizationMember, ProjectMember, Role
from labelhub.services import project_member_add, project_member_set_role, project_update
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    boss, helper = make_user("boss"), make_user("helper")
    project = make_project(members={boss: Role.MANAGER, helper: Role.CONTRIBUTOR}, name="Cars")
    return project, boss, helper


def actions(project):
    return list(AuditEvent.objects.filter(project=project).values_list("action", flat=True))


def test_schema_and_quality_changes_through_the_settings_forms_are_recorded(client, setup):
    project, boss, _ = setup
    client.force_login(boss)
    schema = dict(project.schema)
    schema["labels"] = [{"name": "car", "colour": "#ff0000", "hotkey": 2}]
    client.post(
        reverse("projects:settings-schema", args=[project.pk]),
        {"action": "save-json", "schema_json": json.dumps(schema)},
    )
    project_update(actor=boss, project=project, quality={"review_share": 0.5})
    events = AuditEvent.objects.filter(project=project)
    schema_event = events.get(action="schema.changed")
    assert schema_event.actor == boss
    assert "labels" in schema_event.changes
    quality_event = events.get(action="quality.changed")
    assert quality_event.changes["review_share"]["to"] == 0.5


def test_saving_unchanged_settings_records_nothing(setup):
    project, boss, _ = setup
    project_update(actor=boss, project=project, schema=project.schema, name=project.name)
    assert actions(project) == []


def test_member_add_role_change_and_removal_are_recorded_with_the_actor(client, setup):
    project, boss, _helper = setup
    newcomer = make_user("newcomer")
    OrganizationMember.objects.create(organization=project.organization, user=newcomer)
    member = project_member_add(actor=boss, project=project, username="newcomer", role="reviewer")
    project_member_set_role(actor=boss, member=member, role=Role.CONTRIBUTOR)
    client.force_login(boss)
    client.post(reverse("projects:member-remove", args=[project.pk, member.pk]))
    assert not ProjectMember.objects.filter(pk=member.pk).exists()
    events = list(AuditEvent.objects.filter(project=project).order_by("id"))
    assert [e.action for e in events] == ["member.added", "member.role_changed", "member.removed"]
    assert {e.actor for e in events} == {boss}
    assert events[1].changes["role"] == {"from": "reviewer", "to": "contributor"}


def test_a_refused_change_leaves_no_audit_event(setup):
    project, boss, _ = setup
    with pytest.raises(ValidationError):
        project_update(actor=boss, project=project, schema={"labels": "nope"}, name="")
    assert actions(project) == []


def test_managers_read_the_audit_page_filtered_by_action_and_paginated(client, setup):
    project, boss, _ = setup
    for share in range(60):
        project_update(actor=boss, project=project, quality={"review_share": share / 100})
    project_update(actor=boss, project=project, name="Trucks <script>alert(1)</script>")
    client.force_login(boss)
    page = client.get(reverse("projects:detail", args=[project.pk]))
    assert reverse("projects:audit", args=[project.pk]) in page.content.decode()
    response = client.get(reverse("projects:audit", args=[project.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="audit-row"') == 50
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html
    older = client.get(reverse("projects:audit", args=[project.pk]) + "?page=2").content.decode()
    assert older.count('data-testid="audit-row"') == 11
    only = client.get(reverse("projects:audit", args=[project.pk]) + "?action=project.changed")
    assert only.content.decode().count('data-testid="audit-row"') == 1


def test_contributors_and_reviewers_cannot_read_the_audit_page(client, setup):
    project, _, helper = setup
    reviewer = make_user()
    ProjectMember.objects.create(project=project, user=reviewer, role=Role.REVIEWER)
    for user in (helper, reviewer):
        client.force_login(user)
        assert client.get(reverse("projects:audit", args=[project.pk])).status_code == 404
