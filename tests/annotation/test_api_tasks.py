"""The task and import endpoints: bulk create, files, listing with filters, gold hidden."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from annotation.models import ImportJob, ImportStatus, Task, TaskStatus
from labelhub.models import Role
from tests.factories import make_organization, make_project, make_task, make_user
from tests.media_files import image_bytes

pytestmark = pytest.mark.django_db

GOLD = {"boxes": [{"label": "object", "x": 1, "y": 1, "w": 5, "h": 5}]}


@pytest.fixture
def world():
    org = make_organization("Acme")
    manager, contributor = make_user("mia", organization=org), make_user("cole", organization=org)
    project = make_project(
        organization=org,
        quality={"overlap": 2},
        members={manager: Role.MANAGER, contributor: Role.CONTRIBUTOR},
    )
    return project, manager, contributor


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_small_json_list_is_created_at_once(world):
    project, manager, _ = world
    items = [
        {"data": {"image": f"https://x/{i}.jpg"}, "external_id": f"e{i}", "priority": i}
        for i in range(3)
    ]
    response = api(manager).post(f"/api/v1/projects/{project.pk}/tasks/", items, format="json")
    assert response.status_code == 201
    assert response.json() == {"created": 3, "updated": 0, "total": 3}
    assert list(Task.objects.filter(project=project).values_list("overlap", flat=True)) == [2] * 3
    items[0]["data"]["image"] = "https://x/new.jpg"
    response = api(manager).post(f"/api/v1/projects/{project.pk}/tasks/", items, format="json")
    assert response.json() == {"created": 0, "updated": 3, "total": 3}
    assert Task.objects.get(external_id="e0").data["image"] == "https://x/new.jpg"


def test_invalid_list_imports_nothing_and_lists_problems(world):
    project, manager, _ = world
    items = [{"data": {"image": "https://x/a.jpg"}}, {"data": {}}]
    response = api(manager).post(f"/api/v1/projects/{project.pk}/tasks/", items, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["problems"] == [
        {
            "where": "item 2",
            "field": "data.image",
            "message": "A bounding-box task needs an image (a URL or an uploaded file).",
        }
    ]
    assert body["problem_count"] == 1
    assert not Task.objects.exists()


def test_a_body_that_is_not_a_list_is_refused(world):
    project, manager, _ = world
    response = api(manager).post(
        f"/api/v1/projects/{project.pk}/tasks/", {"data": {}}, format="json"
    )
    assert response.status_code == 400


def test_big_list_is_queued_and_imported_in_the_background(
    world, settings, django_capture_on_commit_callbacks
):
    settings.LABELHUB_IMPORT_SYNC_LIMIT = 5
    project, manager, _ = world
    items = [{"data": {"image": f"https://x/{i}.jpg"}} for i in range(12)]
    with django_capture_on_commit_callbacks(execute=True):
        response = api(manager).post(f"/api/v1/projects/{project.pk}/tasks/", items, format="json")
    assert response.status_code == 202
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert (job.status, job.total, job.created) == (ImportStatus.DONE, 12, 12)
    assert Task.objects.filter(project=project).count() == 12
    status = api(manager).get(f"/api/v1/imports/{job.pk}/").json()
    assert (status["status"], status["processed"], status["created"]) == ("done", 12, 12)


def test_uploaded_files_are_queued_and_failures_are_reported(
    world, django_capture_on_commit_callbacks
):
    project, manager, _ = world
    url = f"/api/v1/projects/{project.pk}/tasks/"
    files = [
        SimpleUploadedFile("a.png", image_bytes()),
        SimpleUploadedFile("b.png", image_bytes(30, 20)),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = api(manager).post(url, {"file": files}, format="multipart")
    assert response.status_code == 202
    job = api(manager).get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert (job["status"], job["created"]) == ("done", 2)
    assert Task.objects.get(external_id="b.png").data["width"] == 30
    bad = SimpleUploadedFile("t.csv", b"image\nnot-a-url\n")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(manager).post(url, {"file": [bad]}, format="multipart")
    job = api(manager).get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "failed"
    assert job["errors"] == [
        "row 2, data.image: The image must be an http(s) URL or an uploaded file."
    ]


def test_coco_upload_sets_gold(world, django_capture_on_commit_callbacks):
    project, manager, _ = world
    task = make_task(project=project, external_id="cat.jpg")
    coco = {
        "images": [{"id": 7, "file_name": "cat.jpg"}],
        "categories": [{"id": 1, "name": "object"}],
        "annotations": [{"image_id": 7, "category_id": 1, "bbox": [1, 1, 5, 5]}],
    }
    upload = SimpleUploadedFile("coco.json", json.dumps(coco).encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = api(manager).post(
            f"/api/v1/projects/{project.pk}/tasks/",
            {"file": [upload], "coco": "gold"},
            format="multipart",
        )
    assert response.status_code == 202
    task.refresh_from_db()
    assert task.is_gold
    assert task.gold == GOLD


def test_gold_appears_only_to_managers(world):
    project, manager, contributor = world
    gold_task = make_task(project=project, is_gold=True, gold=GOLD)
    as_manager = api(manager).get(f"/api/v1/tasks/{gold_task.pk}/").json()
    assert as_manager["is_gold"] is True
    assert as_manager["gold"] == GOLD
    as_contributor = api(contributor).get(f"/api/v1/tasks/{gold_task.pk}/")
    assert as_contributor.status_code == 200
    assert "gold" not in as_contributor.json()
    assert "is_gold" not in as_contributor.json()
    listed = api(contributor).get(f"/api/v1/projects/{project.pk}/tasks/").json()["results"]
    assert listed
    assert all("gold" not in task and "is_gold" not in task for task in listed)
    assert "gold" not in json.dumps(listed)


def test_contributors_cannot_import(world):
    project, _, contributor = world
    response = api(contributor).post(
        f"/api/v1/projects/{project.pk}/tasks/", [{"image": "https://x/a.jpg"}], format="json"
    )
    assert response.status_code == 404
    assert not Task.objects.exists()


def test_other_organizations_get_404_for_everything(world, django_capture_on_commit_callbacks):
    project, manager, _ = world
    task = make_task(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = (
            api(manager)
            .post(
                f"/api/v1/projects/{project.pk}/tasks/",
                {"file": [SimpleUploadedFile("a.png", image_bytes())]},
                format="multipart",
            )
            .json()["id"]
        )
    outsider = make_user(organization=make_organization("Other"))
    make_project(members={outsider: Role.MANAGER})
    client = api(outsider)
    assert client.get(f"/api/v1/projects/{project.pk}/tasks/").status_code == 404
    assert (
        client.post(f"/api/v1/projects/{project.pk}/tasks/", [], format="json").status_code == 404
    )
    assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    assert client.get(f"/api/v1/imports/{job_id}/").status_code == 404


def test_task_list_filters_and_paginates(world):
    project, manager, _ = world
    first = make_task(project=project, external_id="a")
    make_task(project=project, external_id="b", status=TaskStatus.ACCEPTED)
    for _ in range(3):
        make_task(project=project)
    url = f"/api/v1/projects/{project.pk}/tasks/"
    client = api(manager)
    body = client.get(url, {"page_size": 2}).json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert body["next"]
    assert [
        t["external_id"] for t in client.get(url, {"status": "accepted"}).json()["results"]
    ] == ["b"]
    assert [t["id"] for t in client.get(url, {"external_id": "a"}).json()["results"]] == [first.pk]
    Task.objects.filter(pk=first.pk).update(created_at="2020-01-01T00:00:00Z")
    old = client.get(url, {"created_before": "2021-01-01T00:00:00Z"}).json()["results"]
    assert [t["id"] for t in old] == [first.pk]
    recent = client.get(url, {"created_after": "2021-01-01T00:00:00Z"}).json()
    assert recent["count"] == 4
    assert client.get(url, {"status": "nonsense"}).status_code == 400


def test_task_list_filters_by_who_answered_for_managers_only(world):
    from annotation import queue

    project, manager, contributor = world
    answered, other = make_task(project=project), make_task(project=project)
    assignment = queue.assignment_claim_next(project=project, contributor=contributor)
    assert assignment.task_id == answered.pk
    queue.annotation_submit(
        assignment_id=assignment.pk, contributor=contributor, result={"boxes": []}
    )
    url = f"/api/v1/projects/{project.pk}/tasks/"
    mine = api(manager).get(url, {"contributor": contributor.username}).json()["results"]
    assert [t["id"] for t in mine] == [answered.pk]
    assert api(manager).get(url, {"contributor": "nobody"}).json()["count"] == 0
    # A contributor's list ignores the filter: it would single out tasks by who did them.
    theirs = api(contributor).get(url, {"contributor": contributor.username}).json()
    assert {t["id"] for t in theirs["results"]} == {answered.pk, other.pk}


def test_task_list_runs_the_same_queries_for_many_tasks(world, django_assert_num_queries):
    project, manager, _ = world
    client = api(manager)
    url = f"/api/v1/projects/{project.pk}/tasks/"
    make_task(project=project)
    with django_assert_num_queries(4) as few:  # project, role, count, page
        client.get(url)
    for _ in range(30):
        make_task(project=project)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)


def test_small_import_runs_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    project, manager, _ = world
    items = [{"data": {"image": f"https://x/{i}.jpg"}, "external_id": f"e{i}"} for i in range(500)]
    # project, role, existing ids, the insert (COPY or batched INSERT), savepoints
    with django_assert_max_num_queries(8):
        response = api(manager).post(f"/api/v1/projects/{project.pk}/tasks/", items, format="json")
    assert response.status_code == 201
