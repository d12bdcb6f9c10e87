"""Archive, duplicate and delete a project, on the pages and through the API."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.models import Annotation, Task
from annotation.services import task_create_with_media
from labelhub.models import (
    AuditAction,
    AuditEvent,
    OrganizationMember,
    Project,
    ProjectMember,
    Role,
)
from quality.models import TaskOutcome
from tests.factories import make_project, make_user
from tests.media import png_bytes
from tests.quality.helpers import answer_next, make_quality_project, make_ranking_tasks

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world():
    project, (ana, ben, _cleo), reviewer, manager = make_quality_project(
        quality={"overlap": 1, "review_policy": "none"}, name="Street scenes"
    )
    make_ranking_tasks(project, 3)
    return project, ana, ben, reviewer, manager


def test_an_archived_project_is_off_contributors_home_and_the_queue_refuses_with_a_code(
    client, world
):
    project, ana, _ben, reviewer, manager = world
    response = api(manager).post(f"/api/v1/projects/{project.pk}/archive/")
    assert response.status_code == 200
    assert response.json()["archived_at"] is not None
    assert AuditEvent.objects.filter(project=project, action=AuditAction.PROJECT_ARCHIVED).exists()

    refused = api(ana).post(f"/api/v1/projects/{project.pk}/next/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "project_archived"

    client.force_login(ana)
    assert "Street scenes" not in client.get(reverse("home")).content.decode()
    work = client.get(reverse("annotation:work", args=[project.pk])).content.decode()
    assert "archived" in work
    assert 'data-testid="start"' not in work
    panel = client.post(reverse("annotation:work-next", args=[project.pk]), HTTP_HX_REQUEST="true")
    assert "archived" in panel.content.decode()
    assert not project.assignments.exists()

    for person in (reviewer, manager):
        client.force_login(person)
        home = client.get(reverse("home")).content.decode()
        assert "Street scenes" in home
        assert 'data-testid="archived-badge"' in home

    assert (
        api(manager).post(f"/api/v1/projects/{project.pk}/unarchive/").json()["archived_at"] is None
    )
    assert api(ana).post(f"/api/v1/projects/{project.pk}/next/").status_code == 200


def test_archive_and_unarchive_from_the_project_page(client, world):
    project, *_, manager = world
    client.force_login(manager)
    client.post(reverse("projects:archive", args=[project.pk]))
    page = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert 'data-testid="archived-badge"' in page
    assert 'data-testid="unarchive"' in page
    client.post(reverse("projects:unarchive", args=[project.pk]))
    project.refresh_from_db()
    assert project.archived_at is None
    actions = list(AuditEvent.objects.filter(project=project).values_list("action", flat=True))
    assert AuditAction.PROJECT_ARCHIVED in actions
    assert AuditAction.PROJECT_UNARCHIVED in actions


def test_duplicate_copies_settings_and_people_without_tasks(world):
    project, *_, manager = world
    project.instructions = "Pick the kinder answer."
    project.save()
    refused = api(manager).post(f"/api/v1/projects/{project.pk}/duplicate/", {}, format="json")
    assert refused.status_code == 400  # creating projects is for the organization's admins
    OrganizationMember.objects.filter(user=manager).update(is_admin=True)

    response = api(manager).post(f"/api/v1/projects/{project.pk}/duplicate/", {}, format="json")
    assert response.status_code == 201, response.json()
    copy = Project.objects.get(pk=response.json()["id"])
    assert copy.name == "Street scenes (copy)"
    assert (copy.kind, copy.schema, copy.instructions) == (
        project.kind,
        project.schema,
        project.instructions,
    )
    assert project.quality.items() <= copy.quality.items()  # the same bars (and defaults)
    assert not copy.tasks.exists()
    assert dict(ProjectMember.objects.filter(project=copy).values_list("user", "role")) == dict(
        ProjectMember.objects.filter(project=project).values_list("user", "role")
    )
    again = api(manager).post(
        f"/api/v1/projects/{project.pk}/duplicate/", {"name": "Streets, round 2"}, format="json"
    )
    assert again.json()["name"] == "Streets, round 2"
    assert api(manager).post(f"/api/v1/projects/{project.pk}/duplicate/").json()["name"] == (
        "Street scenes (copy 2)"
    )


def test_delete_needs_the_name_and_removes_the_data_at_once_but_keeps_the_audit_trail(
    django_capture_on_commit_callbacks, world
):
    project, ana, _ben, _reviewer, manager = world
    answer_next(django_capture_on_commit_callbacks, project=project, user=ana, preference="a")
    assert TaskOutcome.objects.filter(project=project).exists()
    api(manager).post(f"/api/v1/projects/{project.pk}/archive/")
    before = AuditEvent.objects.filter(project=project).count()

    wrong = api(manager).delete(
        f"/api/v1/projects/{project.pk}/", {"confirmation": "street scenes"}, format="json"
    )
    assert wrong.status_code == 400
    assert "confirmation" in wrong.json()
    assert (
        api(ana)
        .delete(f"/api/v1/projects/{project.pk}/", {"confirmation": project.name}, format="json")
        .status_code
        == 404
    )  # not theirs to delete

    with django_capture_on_commit_callbacks(execute=True):
        done = api(manager).delete(
            f"/api/v1/projects/{project.pk}/", {"confirmation": "Street scenes"}, format="json"
        )
    assert done.status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Task.objects.filter(project_id=project.pk).exists()
    assert not Annotation.objects.filter(task__project_id=project.pk).exists()
    assert api(manager).get(f"/api/v1/projects/{project.pk}/").status_code == 404
    export = api(manager).get(f"/api/v1/projects/{project.pk}/export/?format=rankings")
    assert export.status_code == 404

    kept = AuditEvent.objects.filter(project_name="Street scenes", project=None)
    assert kept.count() == before + 1
    deleted = kept.get(action=AuditAction.PROJECT_DELETED)
    assert deleted.actor == manager
    assert deleted.changes["tasks"] == 3


def test_delete_from_the_page_asks_for_the_name_and_removes_stored_files(
    client, django_capture_on_commit_callbacks
):
    manager = make_user()
    project = make_project(name="Photos", members={manager: Role.MANAGER})
    task = task_create_with_media(
        project=project, media_field="image", file=png_bytes(), filename="p.png"
    )
    stored = task.media.name
    assert default_storage.exists(stored)
    client.force_login(manager)
    page = client.get(reverse("projects:delete", args=[project.pk]))
    assert "1 task" in page.content.decode()
    wrong = client.post(reverse("projects:delete", args=[project.pk]), {"confirmation": "photos"})
    assert wrong.status_code == 422
    assert "Type the project" in wrong.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            reverse("projects:delete", args=[project.pk]), {"confirmation": "Photos"}
        )
    assert done.status_code == 302
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not default_storage.exists(stored)
