"""The server side the client leans on: cursor pages, field selection, the results feed, export
jobs with resumable downloads, and the API version header."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotation.models import Task
from exports.models import ExportStatus
from labelhub.api.version import API_VERSION, API_VERSION_HEADER
from quality.models import TaskOutcome
from tests.exports.helpers import answer, api, make_world, settle
from tests.factories import make_task

pytestmark = pytest.mark.django_db

CAT = {"boxes": [{"label": "cat", "x": 1, "y": 2, "w": 30, "h": 40}]}


def tasks_of(project, n):
    return [
        make_task(project=project, data={"image": f"https://x/{i}.jpg"}, external_id=f"e{i}")
        for i in range(n)
    ]


def test_cursor_pages_walk_every_task_once_in_id_order():
    project, manager, *_ = make_world()
    tasks = tasks_of(project, 25)
    client, seen, url = api(manager, token=True), [], f"/api/v1/projects/{project.pk}/tasks/"
    params = {"cursor": "", "page_size": 10, "fields": "id,external_id,status"}
    while True:
        page = client.get(url, params).json()
        assert "count" not in page
        seen += page["results"]
        if page["cursor"] is None:
            assert page["next"] is None
            break
        params["cursor"] = page["cursor"]
    assert [t["id"] for t in seen] == [t.pk for t in tasks]
    assert seen[3] == {"id": tasks[3].pk, "external_id": "e3", "status": "open"}


def test_listing_without_cursor_keeps_its_page_number_shape():
    project, manager, *_ = make_world()
    tasks_of(project, 3)
    client = api(manager, token=True)
    page = client.get(f"/api/v1/projects/{project.pk}/tasks/").json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 3
    assert {"data", "is_gold", "agreement"} <= set(page["results"][0])
    narrow = client.get(f"/api/v1/projects/{project.pk}/tasks/", {"fields": "id,content"})
    assert narrow.json()["results"][0] == {"id": page["results"][0]["id"], "content": []}


def test_a_cursor_page_reads_by_key_not_by_offset():
    project, manager, *_ = make_world()
    tasks_of(project, 5)
    client = api(manager, token=True)
    first = client.get(
        f"/api/v1/projects/{project.pk}/tasks/", {"cursor": "", "page_size": 2, "fields": "id"}
    ).json()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            f"/api/v1/projects/{project.pk}/tasks/",
            {"cursor": first["cursor"], "page_size": 2, "fields": "id"},
        )
    assert response.status_code == 200
    listing = [q["sql"] for q in queries if 'FROM "annotation_task"' in q["sql"]]
    assert len(listing) == 1
    assert "OFFSET" not in listing[0].upper()
    assert '"annotation_task"."id" >' in listing[0]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "", "fields": "id,secret"}, "fields"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "", "sort": "-priority"}, "sort"),
        ({"cursor": "", "page_size": "5000"}, "page_size"),
    ],
)
def test_bad_listing_parameters_are_refused_by_name(params, field):
    project, manager, *_ = make_world()
    response = api(manager, token=True).get(f"/api/v1/projects/{project.pk}/tasks/", params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_contributors_may_not_select_fields_they_cannot_see():
    project, _manager, _reviewer, contributor, _ = make_world()
    tasks_of(project, 1)
    response = api(contributor, token=True).get(
        f"/api/v1/projects/{project.pk}/tasks/", {"cursor": "", "fields": "id,status"}
    )
    assert response.status_code == 400
    assert "status" in response.json()["fields"][0]


def test_every_api_answer_says_the_api_version():
    project, manager, *_ = make_world()
    client = api(manager, token=True)
    assert client.get(f"/api/v1/projects/{project.pk}/")[API_VERSION_HEADER] == API_VERSION
    assert client.get("/api/v1/projects/999999/")[API_VERSION_HEADER] == API_VERSION
    assert API_VERSION_HEADER not in client.get("/accounts/login/")


def test_results_feed_gives_only_what_was_accepted_after_the_cursor(settings):
    settings.LABELHUB_RESULTS_SETTLE_SECONDS = 0
    project, manager, _reviewer, contributor, _ = make_world()
    tasks = tasks_of(project, 5)
    for task in tasks[:3]:
        answer(task, contributor, CAT)
        settle(task, CAT)
    settle(tasks[3], CAT, accepted=False)
    client, url = api(manager, token=True), f"/api/v1/projects/{project.pk}/results/"
    first = client.get(url).json()
    assert [r["task"] for r in first["results"]] == [t.pk for t in tasks[:3]]
    assert first["results"][0] == {
        "task": tasks[0].pk,
        "external_id": "e0",
        "result": CAT,
        "accepted_at": first["results"][0]["accepted_at"],
    }
    assert client.get(url, {"since": first["cursor"]}).json()["results"] == []
    TaskOutcome.objects.filter(task=tasks[3]).update(
        accepted_result=CAT, accepted_at=timezone.now()
    )
    second = client.get(url, {"since": first["cursor"], "fields": "task,data"}).json()
    assert second["results"] == [{"task": tasks[3].pk, "data": tasks[3].data}]
    paged = client.get(url, {"page_size": 2}).json()
    assert len(paged["results"]) == 2
    assert paged["next"] is not None


def test_results_feed_holds_back_acceptances_still_settling(settings):
    settings.LABELHUB_RESULTS_SETTLE_SECONDS = 60
    project, manager, *_ = make_world()
    old, new = tasks_of(project, 2)
    settle(old, CAT)
    settle(new, CAT)
    TaskOutcome.objects.filter(task=old).update(accepted_at=timezone.now() - timedelta(minutes=5))
    page = api(manager, token=True).get(f"/api/v1/projects/{project.pk}/results/").json()
    assert [r["task"] for r in page["results"]] == [old.pk]


def test_results_feed_is_for_managers_and_refuses_a_made_up_cursor():
    project, _manager, reviewer, *_ = make_world()
    url = f"/api/v1/projects/{project.pk}/results/"
    assert api(reviewer, token=True).get(url).status_code == 404
    response = api(_manager, token=True).get(url, {"since": "eyJ4IjoxfQ"})
    assert response.status_code == 400
    assert list(response.json()) == ["since"]


@pytest.fixture
def export_job(django_capture_on_commit_callbacks):
    project, manager, *_ = make_world()
    for task in tasks_of(project, 40):
        settle(task, CAT)
    client = api(manager, token=True)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            f"/api/v1/projects/{project.pk}/exports/", {"format": "coco"}, format="json"
        )
    assert created.status_code == 202, created.json()
    job = client.get(f"/api/v1/exports/{created.json()['id']}/").json()
    assert job["status"] == ExportStatus.DONE
    assert job["total"] == job["processed"] == 40
    return client, job


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_export_job_file_downloads_whole_and_by_range(export_job):
    client, job = export_job
    assert client.get(f"/api/v1/exports/{job['id']}/").json()["size"] == job["size"]
    url = f"/api/v1/exports/{job['id']}/download/"
    whole = client.get(url)
    assert whole.status_code == 200
    content = body(whole)
    assert len(content) == job["size"] == int(whole["Content-Length"])
    assert whole["Accept-Ranges"] == "bytes"
    etag = whole["ETag"]
    part = client.get(url, HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=etag)
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-{len(content) - 1}/{len(content)}"
    assert body(part) == content[100:]
    middle = client.get(url, HTTP_RANGE="bytes=10-19")
    assert (middle.status_code, body(middle)) == (206, content[10:20])
    tail = client.get(url, HTTP_RANGE="bytes=-7")
    assert body(tail) == content[-7:]
    changed = client.get(url, HTTP_RANGE="bytes=100-", HTTP_IF_RANGE='"another"')
    assert (changed.status_code, body(changed)) == (200, content)
    past = client.get(url, HTTP_RANGE=f"bytes={len(content)}-")
    assert past.status_code == 416
    assert past["Content-Range"] == f"bytes */{len(content)}"


def test_export_jobs_refuse_unknown_formats_and_strangers(export_job):
    client, job = export_job
    refused = client.post(
        f"/api/v1/projects/{job['project']}/exports/", {"format": "xml"}, format="json"
    )
    assert refused.status_code == 400
    assert "xml" in refused.json()["format"][0]
    _project, stranger, *_ = make_world()
    other = api(stranger, token=True)
    assert other.get(f"/api/v1/exports/{job['id']}/").status_code == 404
    assert other.get(f"/api/v1/exports/{job['id']}/download/").status_code == 404
    assert Task.objects.filter(project_id=job["project"]).count() == 40
