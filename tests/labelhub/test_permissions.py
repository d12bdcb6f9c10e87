import pytest
from django.http import Http404

from labelhub.models import Role
from labelhub.permissions import can_label, can_manage, can_review, can_view, project_for
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    manager, reviewer, contributor, outsider = (make_user() for _ in range(4))
    project = make_project(
        members={manager: Role.MANAGER, reviewer: Role.REVIEWER, contributor: Role.CONTRIBUTOR}
    )
    return project, manager, reviewer, contributor, outsider


def test_each_role_has_exactly_its_rights(people):
    project, manager, reviewer, contributor, outsider = people
    table = {
        manager: (True, True, True, False),
        reviewer: (True, False, True, False),
        contributor: (True, False, False, True),
        outsider: (False, False, False, False),
    }
    for user, (view, manage, review, label) in table.items():
        assert can_view(user=user, project=project) is view, user
        assert can_manage(user=user, project=project) is manage, user
        assert can_review(user=user, project=project) is review, user
        assert can_label(user=user, project=project) is label, user


def test_roles_are_per_project(people):
    project, _manager, _reviewer, contributor, _outsider = people
    other = make_project(organization=project.organization, members={contributor: Role.REVIEWER})
    assert can_label(user=contributor, project=project)
    assert not can_label(user=contributor, project=other)
    assert can_review(user=contributor, project=other)


def test_staff_without_a_role_gets_nothing_from_the_app(people):
    project = people[0]
    staff = make_user(is_staff=True, is_superuser=True)
    assert not can_view(user=staff, project=project)


def test_project_for_hides_forbidden_and_missing_projects_alike(people):
    project, manager, _reviewer, contributor, outsider = people
    assert project_for(user=manager, project_id=project.pk, action="manage") == project
    for user, action, project_id in [
        (contributor, "manage", project.pk),
        (outsider, "view", project.pk),
        (manager, "view", 10_000_000),
    ]:
        with pytest.raises(Http404, match="No such project"):
            project_for(user=user, project_id=project_id, action=action)
