"""The export screen, background export jobs, the webhook log, task detail and rate limits."""

import io
import json
import zipfile

import pytest
from django.core.cache import cache
from django.test import override_settings

from annotation.models import Annotation, DeliveryStatus, WebhookDelivery
from exports.models import ExportJob, ExportStatus
from quality.models import Review
from tests.exports.helpers import answer, api, make_world, settle
from tests.factories import PASSWORD, make_task, make_user
from tests.kinds.hf_datasets import CONVERSATIONAL, load_jsonl
from tests.objectstore import downloaded

pytestmark = pytest.mark.django_db

CAT = {"label": "cat", "x": 1, "y": 2, "w": 30, "h": 40}


@pytest.fixture
def world():
    project, manager, reviewer, contributor, outsider = make_world()
    task = make_task(
        project=project,
        data={"image": "https://x/a.jpg", "width": 100, "height": 100},
        external_id="a",
        callback_url="https://example.com/hook",
    )
    answer(task, contributor, {"boxes": [CAT]})
    settle(task, {"boxes": [CAT]})
    return project, manager, reviewer, contributor, outsider, task


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_small_export_downloads_from_the_screen_at_once(client, world):
    project, manager, *_ = world
    login(client, manager)
    page = client.get(f"/projects/{project.pk}/export/")
    assert page.status_code == 200
    assert b"COCO JSON" in page.content
    response = client.post(
        f"/projects/{project.pk}/export/", {"format": "yolo", "accepted_only": "on"}
    )
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "labels/a.txt" in archive.namelist()


@override_settings(LABELHUB_EXPORT_SYNC_LIMIT=0)
def test_big_export_runs_as_a_job_and_only_managers_download_it(
    client, world, django_capture_on_commit_callbacks
):
    project, manager, reviewer, *_ = world
    login(client, manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/projects/{project.pk}/export/", {"format": "coco", "accepted_only": "on"}
        )
    job = ExportJob.objects.get(project=project)
    assert response.status_code == 302
    assert response["Location"].endswith(f"?job={job.pk}")
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE  # the immediate backend ran it
    assert (job.processed, job.total) == (1, 1)
    status = client.get(f"/projects/{project.pk}/export/{job.pk}/")
    assert b"export-download" in status.content
    download = client.get(f"/projects/{project.pk}/export/{job.pk}/download/")
    document = json.loads(downloaded(download))
    assert [a["bbox"] for a in document["annotations"]] == [[1, 2, 30, 40]]
    client.logout()
    login(client, reviewer)
    assert client.get(f"/projects/{project.pk}/export/{job.pk}/download/").status_code == 404
    assert client.get(f"/projects/{project.pk}/export/").status_code == 404


@pytest.fixture
def chat_world():
    """A ranking project with a text prompt and a multi-turn chat, both accepted."""
    project, manager, _reviewer, contributor, _ = make_world(kind="ranking")
    responses = [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    for data, external_id in [({"prompt": "Hi?"}, "text"), ({"messages": chat}, "chat")]:
        task = make_task(project=project, data={**data, "responses": responses},
                         external_id=external_id)  # fmt: skip
        answer(task, contributor, {"preference": "a", "strength": 1})
        settle(task, {"preference": "a", "strength": 1}, confidence=0.5)
    return project, manager


def test_the_screen_offers_the_dpo_style_only_to_ranking_projects(client, world, chat_world):
    project, manager = chat_world
    login(client, manager)
    assert b'name="style"' in client.get(f"/projects/{project.pk}/export/").content
    response = client.post(
        f"/projects/{project.pk}/export/",
        {"format": "dpo", "style": "standard", "accepted_only": "on"},
    )
    assert response.status_code == 422
    assert b"not a single user turn" in response.content
    client.logout()
    bbox_project, bbox_manager, *_ = world
    login(client, bbox_manager)
    assert b'name="style"' not in client.get(f"/projects/{bbox_project.pk}/export/").content


@override_settings(LABELHUB_EXPORT_SYNC_LIMIT=0)
def test_a_background_dpo_export_keeps_its_style(
    client, chat_world, tmp_path, django_capture_on_commit_callbacks
):
    project, manager = chat_world
    login(client, manager)
    refused = client.post(
        f"/projects/{project.pk}/export/",
        {"format": "dpo", "style": "standard", "accepted_only": "on"},
    )
    assert refused.status_code == 422
    assert not ExportJob.objects.filter(project=project).exists()  # refused before it is queued
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/projects/{project.pk}/export/", {"format": "dpo", "accepted_only": "on"})
    job = ExportJob.objects.get(project=project)
    assert job.status == ExportStatus.DONE
    assert job.options["style"] == "auto"
    download = client.get(f"/projects/{project.pk}/export/{job.pk}/download/")
    ds = load_jsonl(tmp_path, downloaded(download))
    assert ds.features == CONVERSATIONAL
    assert [row["prompt"][-1]["content"] for row in ds] == ["Hi?", "Hi"]


def test_the_export_screen_is_only_for_managers(client, world):
    project, _manager, reviewer, contributor, outsider, _task = world
    for user in (reviewer, contributor, outsider):
        login(client, user)
        assert client.get(f"/projects/{project.pk}/export/").status_code == 404
        assert client.get(f"/projects/{project.pk}/webhooks/").status_code == 404
        client.logout()


def test_webhook_log_lists_deliveries_and_sends_one_again(
    client, world, django_capture_on_commit_callbacks
):
    project, manager, reviewer, _c, _o, task = world
    failed = WebhookDelivery.objects.create(
        project=project,
        task=task,
        event="task.accepted",
        url=task.callback_url,
        payload={"event": "task.accepted"},
        status=DeliveryStatus.FAILED,
        attempts=12,
        last_status_code=503,
        last_error="HTTP 503",
    )
    login(client, manager)
    page = client.get(f"/projects/{project.pk}/webhooks/")
    assert b"HTTP 503" in page.content
    project.refresh_from_db()
    assert project.webhook_secret.encode() in page.content
    assert f'data-delivery="{failed.pk}"'.encode() in page.content
    with django_capture_on_commit_callbacks():  # send later, not to example.com now
        response = client.post(f"/projects/{project.pk}/webhooks/{failed.pk}/send-again/")
    assert response.status_code == 302
    copy = WebhookDelivery.objects.exclude(pk=failed.pk).get()
    assert copy.payload["resent_from"] == failed.pk
    assert copy.status == DeliveryStatus.PENDING
    listed = api(manager).get(f"/api/v1/projects/{project.pk}/webhooks/?status=failed").json()
    assert [d["id"] for d in listed["results"]] == [failed.pk]
    assert listed["results"][0]["last_status_code"] == 503
    login(client, reviewer)
    assert (
        client.post(f"/projects/{project.pk}/webhooks/{failed.pk}/send-again/").status_code == 404
    )
    assert api(reviewer).get(f"/api/v1/projects/{project.pk}/webhooks/").status_code == 404


def test_task_detail_shows_answers_outcome_and_reviews_to_managers(world):
    project, manager, reviewer, contributor, _o, task = world
    other = make_user()
    answer(task, other, {"boxes": []})
    Review.objects.create(
        task=task, project=project, reviewer=reviewer, verdict="accept", reason="sampled"
    )
    for user in (manager, reviewer):
        detail = api(user).get(f"/api/v1/tasks/{task.pk}/").json()
        assert detail["status"] == "accepted"
        assert len(detail["annotations"]) == 2
        assert detail["outcome"]["accepted_result"] == {"boxes": [CAT]}
        assert [r["verdict"] for r in detail["reviews"]] == ["accept"]
    mine = api(contributor).get(f"/api/v1/tasks/{task.pk}/").json()
    own = Annotation.objects.get(task=task, contributor=contributor)
    assert [a["id"] for a in mine["annotations"]] == [own.pk]  # only their own answer
    assert "contributor" not in mine["annotations"][0]
    assert "status" not in mine  # nothing that would tell a gold task apart
    assert mine["outcome"] is None
    assert mine["reviews"] == []


def test_contributors_never_see_gold_in_task_detail(world):
    project, _m, _r, contributor, _o, _t = world
    gold = make_task(project=project, is_gold=True, gold={"boxes": [CAT]})
    answer(gold, contributor, {"boxes": [CAT]}).__class__.objects.filter(task=gold).update(
        gold_score=1.0
    )
    detail = api(contributor).get(f"/api/v1/tasks/{gold.pk}/")
    text = json.dumps(detail.json())
    assert "gold" not in text
    assert len(detail.json()["annotations"]) == 1


@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@override_settings(API_WRITE_RATE="2/min")
def test_token_writes_over_the_rate_get_429_with_retry_after(world, fresh_cache):
    project, manager, *_ = world
    client = api(manager, token=True)
    url = f"/api/v1/projects/{project.pk}/tasks/"
    for _ in range(2):
        assert (
            client.post(url, [{"data": {"image": "https://x/b.jpg"}}], format="json").status_code
            == 201
        )
    refused = client.post(url, [{"data": {"image": "https://x/c.jpg"}}], format="json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["detail"].startswith("Too many write requests with this API token.")
    # Reads with the same token, and the browser's session, are not limited.
    assert client.get(url).status_code == 200
    session = api(manager)
    assert (
        session.post(url, [{"data": {"image": "https://x/d.jpg"}}], format="json").status_code
        == 201
    )


def test_openapi_schema_has_the_export_and_examples(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/v1/projects/{project_id}/export/" in schema["paths"]
    assert "/api/v1/projects/{project_id}/webhooks/" in schema["paths"]
    export = schema["paths"]["/api/v1/projects/{project_id}/export/"]["get"]
    style = next(p for p in export["parameters"] if p["name"] == "style")
    assert style["schema"]["enum"] == ["auto", "standard", "conversational"]
    detail = schema["paths"]["/api/v1/tasks/{task_id}/"]["get"]["responses"]["200"]
    assert "examples" in detail["content"]["application/json"]
