"""Project and member services: what they refuse, and what they write."""

import pytest
from django.core.exceptions import ValidationError

from labelhub.models import OrganizationMember, Project, ProjectMember, Role
from labelhub.quality_bars import default_quality
from labelhub.services import (
    project_create,
    project_member_add,
    project_member_remove,
    project_member_set_role,
    project_update,
)
from tests.factories import make_organization, make_project, make_task, make_user

pytestmark = pytest.mark.django_db


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


@pytest.fixture
def admin():
    org = make_organization("Acme")
    user = make_user(organization=org)
    OrganizationMember.objects.filter(user=user).update(is_admin=True)
    return org, user


def test_create_fills_defaults_and_makes_the_creator_manager(admin):
    org, user = admin
    project = project_create(user=user, organization=org, name="  Street   cars ", kind="ranking")
    assert project.name == "Street cars"
    assert project.schema == project.task_kind.default_schema()
    assert project.quality == default_quality("ranking")
    assert project.created_by == user
    assert ProjectMember.objects.get(project=project).role == Role.MANAGER


def test_create_refuses_non_admins_and_checks_every_field(admin):
    org, user = admin
    other = make_user(organization=org)
    assert "organization" in errors_of(
        lambda: project_create(user=other, organization=org, name="X", kind="bbox")
    )
    project_create(user=user, organization=org, name="Cars", kind="bbox")
    errors = errors_of(
        lambda: project_create(
            user=user,
            organization=org,
            name="cars",
            kind="bbox",
            schema={"labels": []},
            quality={"gold_rate": 0.9},
            instructions=5,
        )
    )
    assert errors == {
        "name": ["Acme already has a project named this."],
        "instructions": ["Instructions are Markdown text."],
        "quality.gold_rate": ["Give a value from 0.0 to 0.5."],
        "schema.labels": ["Give at least one label."],
    }
    assert "kind" in errors_of(
        lambda: project_create(user=user, organization=org, name="Y", kind="polygon")
    )
    assert "name" in errors_of(
        lambda: project_create(user=user, organization=org, name=" ", kind="bbox")
    )
    assert "instructions" in errors_of(
        lambda: project_create(
            user=user, organization=org, name="Z", kind="bbox", instructions="x" * 50_001
        )
    )
    assert Project.objects.count() == 1


def test_same_name_is_fine_in_another_organization(admin):
    org, user = admin
    project_create(user=user, organization=org, name="Cars", kind="bbox")
    other = make_organization()
    OrganizationMember.objects.create(organization=other, user=user, is_admin=True)
    assert project_create(user=user, organization=other, name="Cars", kind="bbox")


def test_update_merges_quality_and_refuses_unknown_settings():
    project = make_project(quality={"overlap": 3})
    project_update(project=project, quality={"gold_rate": 0.1})
    project.refresh_from_db()
    assert (project.quality["overlap"], project.quality["gold_rate"]) == (3, 0.1)
    assert errors_of(lambda: project_update(project=project, owner="me")) == {
        "owner": ["Not a setting of a project."]
    }
    assert errors_of(lambda: project_update(project=project, quality=[1])) == {
        "quality": ["The quality bars must be a JSON object."]
    }


def test_update_of_kind_resets_the_schema_until_tasks_exist():
    project = make_project(kind="bbox")
    project_update(project=project, kind="transcription")
    project.refresh_from_db()
    assert project.schema == project.task_kind.default_schema()
    make_task(project=project)
    assert errors_of(lambda: project_update(project=project, kind="bbox")) == {
        "kind": ["The kind cannot change once the project has tasks."]
    }


def test_update_validates_schema_against_the_new_kind():
    project = make_project(kind="bbox")
    errors = errors_of(
        lambda: project_update(project=project, kind="ranking", schema={"mode": "stars"})
    )
    assert "schema.mode" in errors
    project.refresh_from_db()
    assert project.kind == "bbox"


def test_member_add_only_from_the_organization_and_once():
    org = make_organization("Acme")
    project = make_project(organization=org)
    ana = make_user("ana", organization=org)
    make_user("bob", organization=make_organization())
    member = project_member_add(project=project, username="ana", role=Role.REVIEWER)
    assert (member.user, member.role) == (ana, Role.REVIEWER)
    assert errors_of(lambda: project_member_add(project=project, username="ana", role="reviewer"))[
        "username"
    ] == ["ana is already a reviewer on this project."]
    # another role is fine: a reviewer may also label
    also = project_member_add(project=project, username="ana", role=Role.CONTRIBUTOR)
    assert also.role == Role.CONTRIBUTOR
    assert errors_of(lambda: project_member_add(project=project, username="bob", role="reviewer"))[
        "username"
    ] == ["No member of Acme has the username 'bob'."]
    assert errors_of(lambda: project_member_add(project=project, username="", role="owner")) == {
        "username": ["Give a username."],
        "role": ["The role is manager, reviewer or contributor."],
    }


def test_the_last_manager_can_neither_leave_nor_step_down():
    boss, helper = make_user(), make_user()
    make_project(members={boss: Role.MANAGER, helper: Role.CONTRIBUTOR})
    boss_member = ProjectMember.objects.get(user=boss)
    message = "A project keeps at least one manager: make someone else manager first."
    assert errors_of(lambda: project_member_remove(member=boss_member)) == {"role": [message]}
    assert errors_of(lambda: project_member_set_role(member=boss_member, role="reviewer")) == {
        "role": [message]
    }
    helper_member = ProjectMember.objects.get(user=helper)
    project_member_set_role(member=helper_member, role=Role.MANAGER)
    project_member_set_role(member=boss_member, role=Role.REVIEWER)
    project_member_remove(member=boss_member)
    assert list(ProjectMember.objects.values_list("user", "role")) == [(helper.pk, "manager")]
