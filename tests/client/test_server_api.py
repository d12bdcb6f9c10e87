"""The server side the client leans on: cursor pages, field selection, the results feed, export
jobs with resumable downloads, and the API version header."""

import hashlib
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from annotation.models import Task
from exports.models import ExportStatus
from labelhub.accounts import api_token_issue
from labelhub.api.cursor import cursor_encode
from labelhub.api.version import API_ROUTES_DIGEST, API_VERSION, API_VERSION_HEADER
from labelhub.models import OrganizationMember, Project, ProjectMember, Role
from quality.models import TaskOutcome
from tests.exports.helpers import answer, api, make_world, settle
from tests.factories import make_organization, make_project, make_task, make_user

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


# The feed's rows must be committed to be handed out (PostgreSQL: by transaction), so these
# tests commit rather than run inside one test transaction.
@pytest.mark.django_db(transaction=True)
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
    """SQLite (one writer at a time): the feed orders by time behind a settle window."""
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL orders the feed by transaction, not by a settle window")
    settings.LABELHUB_RESULTS_SETTLE_SECONDS = 60
    project, manager, *_ = make_world()
    old, new = tasks_of(project, 2)
    settle(old, CAT)
    settle(new, CAT)
    TaskOutcome.objects.filter(task=old).update(accepted_at=timezone.now() - timedelta(minutes=5))
    page = api(manager, token=True).get(f"/api/v1/projects/{project.pk}/results/").json()
    assert [r["task"] for r in page["results"]] == [old.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_results_feed_never_skips_an_acceptance_whose_batch_commits_late(settings):
    """A judging batch stamps its acceptances when it begins and commits when it ends; another
    commits in between. The feed holds the later one back until the slow batch is done, so the
    cursor handed out meanwhile does not pass over the slow batch's acceptance."""
    settings.LABELHUB_RESULTS_SETTLE_SECONDS = 0  # no time window: the order alone must do it
    project, manager, *_ = make_world()
    slow, quick = tasks_of(project, 2)
    for task in (slow, quick):
        settle(task, CAT, accepted=False)
    accepted, release = threading.Event(), threading.Event()

    def slow_batch() -> None:
        try:
            with transaction.atomic():
                TaskOutcome.objects.filter(task=slow).update(
                    accepted_result=CAT, accepted_at=timezone.now()
                )
                accepted.set()
                release.wait(30)
        finally:
            connection.close()

    batch = threading.Thread(target=slow_batch)
    batch.start()
    try:
        assert accepted.wait(30)
        TaskOutcome.objects.filter(task=quick).update(
            accepted_result=CAT, accepted_at=timezone.now()
        )
        client, url = api(manager, token=True), f"/api/v1/projects/{project.pk}/results/"
        meanwhile = client.get(url).json()
        assert meanwhile["results"] == []  # the quick one waits behind the batch still open
    finally:
        release.set()
        batch.join()
    after = client.get(url, {"since": meanwhile["cursor"] or ""}).json()
    assert sorted(r["task"] for r in after["results"]) == sorted([slow.pk, quick.pk])
    assert client.get(url, {"since": after["cursor"]}).json()["results"] == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_results_cursor_by_time_from_api_1_1_goes_on_where_it_was():
    project, manager, *_ = make_world()
    tasks = tasks_of(project, 4)
    for task in tasks:
        settle(task, CAT)
    outcomes = TaskOutcome.objects.filter(task__in=tasks).order_by("task_id")
    second = outcomes[1]
    old = cursor_encode({"at": second.accepted_at.isoformat(), "task": second.task_id})
    client, url = api(manager, token=True), f"/api/v1/projects/{project.pk}/results/"
    page = client.get(url, {"since": old}).json()
    assert [r["task"] for r in page["results"]] == [t.pk for t in tasks[2:]]
    assert client.get(url, {"since": page["cursor"]}).json()["results"] == []
    assert client.get(url, {"since": page["cursor"]}).json()["cursor"] == page["cursor"]


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


def test_projects_list_in_cursor_pages_and_in_its_old_shape():
    manager = make_user()
    projects = [make_project(members={manager: Role.MANAGER}) for _ in range(5)]
    make_project()  # someone else's
    client = api(manager, token=True)
    old = client.get("/api/v1/projects/").json()
    assert isinstance(old, list)
    assert sorted(p["id"] for p in old) == sorted(p.pk for p in projects)
    seen, params = [], {"cursor": "", "page_size": 2}
    while True:
        page = client.get("/api/v1/projects/", params).json()
        assert set(page) == {"next", "cursor", "results"}
        assert len(page["results"]) <= 2
        seen += page["results"]
        if page["cursor"] is None:
            break
        params["cursor"] = page["cursor"]
    assert [p["id"] for p in seen] == sorted(p.pk for p in projects)
    assert seen[0] == next(p for p in old if p["id"] == seen[0]["id"])
    bad = client.get("/api/v1/projects/", {"cursor": "bm9wZQ"})
    assert (bad.status_code, list(bad.json())) == (400, ["cursor"])


def test_members_are_listed_changed_and_removed_by_managers_only():
    project, manager, reviewer, contributor, outsider = make_world()
    client = api(manager, token=True)
    url = f"/api/v1/projects/{project.pk}/members/"
    first = client.get(url, {"page_size": 2}).json()
    assert len(first["results"]) == 2
    rest = client.get(url, {"cursor": first["cursor"], "page_size": 2}).json()
    assert rest["cursor"] is None
    rows = first["results"] + rest["results"]
    by_name = {row["username"]: row for row in rows}
    assert {name: row["role"] for name, row in by_name.items()} == {
        manager.username: "manager",
        reviewer.username: "reviewer",
        contributor.username: "contributor",
    }
    assert api(reviewer, token=True).get(url).status_code == 404
    assert api(outsider, token=True).get(url).status_code == 404

    member = f"{url}{by_name[contributor.username]['id']}/"
    changed = client.patch(member, {"role": "reviewer"}, format="json")
    assert (changed.status_code, changed.json()["role"]) == (200, "reviewer")
    assert client.patch(member, {"role": "boss"}, format="json").json().keys() == {"role"}
    assert api(reviewer, token=True).delete(member).status_code == 404
    assert client.delete(member).status_code == 204
    assert not ProjectMember.objects.filter(project=project, user=contributor).exists()
    assert client.delete(member).status_code == 404
    last_manager = f"{url}{by_name[manager.username]['id']}/"
    refused = client.delete(last_manager)
    assert refused.status_code == 400
    assert "manager" in refused.json()["role"][0]
    assert ProjectMember.objects.filter(project=project, user=manager).exists()
    other, other_manager, *_ = make_world()
    del other_manager
    foreign = ProjectMember.objects.filter(project=other).first()
    assert client.delete(f"{url}{foreign.pk}/").status_code == 404
    assert ProjectMember.objects.filter(pk=foreign.pk).exists()


def test_creating_a_project_by_name_returns_the_one_the_caller_has():
    organization = make_organization()
    admin, other_admin = make_user(), make_user()
    for person in (admin, other_admin):
        OrganizationMember.objects.create(organization=organization, user=person, is_admin=True)
    body = {"name": "Receipts", "kind": "transcription", "if_exists": "return"}
    client = api(admin, token=True)
    created = client.post("/api/v1/projects/", body, format="json")
    assert created.status_code == 201
    again = client.post("/api/v1/projects/", {**body, "name": " receipts "}, format="json")
    assert (again.status_code, again.json()["id"]) == (200, created.json()["id"])
    plain = client.post("/api/v1/projects/", {**body, "if_exists": "error"}, format="json")
    assert plain.status_code == 400
    assert list(plain.json()) == ["name"]
    # Another admin has no role on it: a name clash, not someone else's project handed over.
    theirs = api(other_admin, token=True).post("/api/v1/projects/", body, format="json")
    assert theirs.status_code == 400
    assert list(theirs.json()) == ["name"]
    assert Project.objects.filter(organization=organization).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_creating_one_project_by_name_at_once_get_the_same_one():
    organization = make_organization()
    admin = make_user()
    OrganizationMember.objects.create(organization=organization, user=admin, is_admin=True)
    token = api_token_issue(user=admin).key
    barrier = threading.Barrier(4)
    answers: list = []

    def create() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        body = {"name": "Nightly", "kind": "transcription", "if_exists": "return"}
        answers.append(client.post("/api/v1/projects/", body, format="json"))
        connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers)[-1] in (200, 201)
    assert {a.status_code for a in answers} <= {200, 201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert Project.objects.filter(organization=organization, name="Nightly").count() == 1


def api_routes_digest() -> str:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    routes = sorted(
        f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops
    )
    return hashlib.sha256("\n".join(routes).encode()).hexdigest()[:16]


def test_a_new_route_comes_with_a_new_api_version():
    """Adding a route (or a method) changes the digest: raise API_VERSION, add a line to the
    changelog in docs/api.md, and put the new digest beside the version."""
    assert api_routes_digest() == API_ROUTES_DIGEST, (
        f"The API's routes changed (digest {api_routes_digest()}): raise API_VERSION "
        f"({API_VERSION}), say what was added in docs/api.md's changelog, and set "
        "API_ROUTES_DIGEST in labelhub/api/version.py."
    )
    changelog = (settings.BASE_DIR / "docs/api.md").read_text().split("## Changelog", 1)[1]
    assert f"**{API_VERSION}**" in changelog
