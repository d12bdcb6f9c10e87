"""The manager's task list and the import form with its progress."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotation.models import ImportJob, Task
from labelhub.models import Role
from tests.factories import make_project, make_task, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def managed(client):
    boss = make_user()
    project = make_project(members={boss: Role.MANAGER})
    client.force_login(boss)
    return project


def test_task_list_shows_tasks_and_filters_by_status(client, managed):
    make_task(project=managed, external_id="cat-1")
    make_task(
        project=managed, external_id="cat-2", status="accepted", is_gold=True, gold={"boxes": []}
    )
    url = reverse("annotation:task-list", args=[managed.pk])
    html = client.get(url).content.decode()
    assert html.count('data-testid="task-row"') == 2
    assert "{&quot;image&quot;: &quot;https://example.com/cat.jpg&quot;}" in html
    assert "gold" in html
    html = client.get(url, {"status": "accepted"}).content.decode()
    assert html.count('data-testid="task-row"') == 1


def test_only_managers_see_the_task_list(client, managed):
    ana = make_user()
    from labelhub.models import ProjectMember

    ProjectMember.objects.create(project=managed, user=ana, role=Role.CONTRIBUTOR)
    client.force_login(ana)
    assert client.get(reverse("annotation:task-list", args=[managed.pk])).status_code == 404


def test_import_from_the_page_runs_and_reports(client, managed, django_capture_on_commit_callbacks):
    url = reverse("annotation:task-import", args=[managed.pk])
    upload = SimpleUploadedFile("tasks.jsonl", b'{"image": "https://x/a.jpg"}\n')
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"files": [upload]}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    job = ImportJob.objects.get()
    status_url = reverse("annotation:import-status", args=[managed.pk, job.pk])
    html = client.get(status_url, {"polling": 1}).content.decode()
    assert "1 created, 0 updated" in html
    assert Task.objects.filter(project=managed).count() == 1


def test_import_without_a_file_is_refused_with_422(client, managed):
    url = reverse("annotation:task-import", args=[managed.pk])
    response = client.post(url, {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Choose a file to import." in response.content.decode()


def test_failed_import_lists_problems(client, managed, django_capture_on_commit_callbacks):
    url = reverse("annotation:task-import", args=[managed.pk])
    upload = SimpleUploadedFile("tasks.csv", b"image\nhttps://x/a.jpg\nnope\n")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"files": [upload]})
    job = ImportJob.objects.get()
    html = client.get(reverse("annotation:import-status", args=[managed.pk, job.pk])).content
    assert "row 3, data.image: The image must be an http(s) URL" in html.decode()
    assert not Task.objects.exists()


def test_running_import_is_polled(client, managed):
    job = ImportJob.objects.create(
        project=managed, original_name="big.csv", total=10, processed=4, status="running"
    )
    html = client.get(reverse("annotation:import-status", args=[managed.pk, job.pk])).content
    assert b'hx-trigger="every 1s"' in html
    assert b'value="4"' in html


def test_pages_that_answer_htmx_with_a_part_vary_on_its_headers(client):
    """Back to a filtered URL must not take the bare partial from the browser's cache."""
    manager = make_user()
    project = make_project(members={manager: "manager"})
    client.force_login(manager)
    tasks = client.get(f"/projects/{project.pk}/tasks/")
    assert {"HX-Request", "HX-Target"} <= set(tasks["Vary"].replace(" ", "").split(","))
    home = client.get("/?q=x")
    assert "HX-Request" in home["Vary"]
