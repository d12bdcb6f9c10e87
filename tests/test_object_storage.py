"""Media, import uploads and exports in an S3 object store: a real S3 server over HTTP.

Every media path goes through the store with the real boto3 / django-storages client: uploads
(images, audio, zips) are checked by Pillow and mutagen and land in the bucket, the import's own
upload is removed once the import is done, the browser gets the bytes of an image, its thumbnail or
a clip (also a byte range) by a short-lived presigned link issued only after LabelHub's role check,
a reviewer's screen and the queue's task point at it, exports are written to the bucket by the job
and downloaded the same way, and deleting tasks removes their objects.
"""

import io
import json
import urllib.error
import urllib.request
import zipfile
from email.message import Message
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from annotation.models import ImportJob, ImportStatus, Task
from exports.models import ExportJob, ExportStatus
from labelhub.models import Role
from tests.exports.helpers import BBOX_SCHEMA, answer, settle
from tests.factories import PASSWORD, make_project, make_user
from tests.media import png_bytes, wav_bytes
from tests.objectstore import bucket_keys, s3_server, s3_storage  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.media]

# Straight to the loopback server: no proxy from the environment in between.
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, headers: dict | None = None) -> tuple[int, Message, bytes]:
    try:
        request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - http only
        with direct.open(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def store(s3_storage, s3_server, monkeypatch):  # noqa: F811 - the fixtures imported above
    """The storage MEDIA_STORAGE=s3 builds from the S3_* variables, in a bucket of its own."""
    client, bucket = s3_storage
    for name, value in {
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": s3_server.endpoint,
        "S3_REGION": s3_server.region,
        "S3_ACCESS_KEY_ID": s3_server.key_id,
        "S3_SECRET_ACCESS_KEY": s3_server.secret,
        "S3_ADDRESSING_STYLE": "path",
    }.items():
        monkeypatch.setenv(name, value)
    from django.conf import settings

    from config.settings import media_storage

    settings.STORAGES = {**settings.STORAGES, "default": media_storage("s3")}
    return client, bucket


@pytest.fixture
def people():
    manager, reviewer, contributor, outsider = (make_user() for _ in range(4))
    return manager, reviewer, contributor, outsider


def project_of(kind, people, **extra):
    manager, reviewer, contributor, _ = people
    return make_project(
        kind=kind,
        schema=BBOX_SCHEMA if kind == "bbox" else None,
        members={manager: Role.MANAGER, reviewer: Role.REVIEWER, contributor: Role.CONTRIBUTOR},
        **extra,
    )


def upload(manager, project, files: dict[str, bytes], django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(manager)
    sent = [SimpleUploadedFile(name, content) for name, content in files.items()]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/projects/{project.pk}/tasks/", {"file": sent})
    assert response.status_code == 202, response.content
    return ImportJob.objects.get(pk=response.json()["id"])


def logged_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_uploaded_images_go_to_the_bucket_and_the_import_upload_is_removed(
    store, people, client, django_capture_on_commit_callbacks
):
    s3, bucket = store
    manager, reviewer, contributor, outsider = people
    project = project_of("bbox", people)
    photo = png_bytes(640, 480).getvalue()
    job = upload(
        manager, project, {"cat.png": photo, "dog.png": png_bytes(50, 40).getvalue()},
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.errors
    assert (job.created, job.upload.name) == (2, "")
    keys = bucket_keys(s3, bucket)
    assert not [key for key in keys if "/imports/" in key], keys  # the upload is gone
    cat = Task.objects.get(project=project, external_id="cat.png")
    assert (cat.data["width"], cat.data["height"]) == (640, 480)  # Pillow read it
    assert {cat.media.name, cat.thumbnail.name} <= set(keys)
    assert s3.get_object(Bucket=bucket, Key=cat.media.name)["Body"].read() == photo

    # Every role on the project gets a short-lived link, after LabelHub's own check.
    for user in (contributor, reviewer, manager):
        response = logged_in(client, user).get(cat.data["image"])
        assert response.status_code == 302, user
        link = response["Location"]
        query = parse_qs(urlsplit(link).query)
        assert query["X-Amz-Expires"] == ["300"]
        assert "X-Amz-Signature" in query
        status, headers, content = fetch(link)
        assert (status, headers["Content-Type"], content) == (200, "image/png", photo)
        client.logout()
    thumbnail = logged_in(client, contributor).get(f"/tasks/{cat.pk}/thumbnail/")
    status, headers, content = fetch(thumbnail["Location"])
    assert (status, headers["Content-Type"], content[:3]) == (200, "image/jpeg", b"\xff\xd8\xff")
    client.logout()
    # Nobody else gets a link, and the bucket itself answers no one without one.
    response = logged_in(client, outsider).get(cat.data["image"])
    assert response.status_code == 404
    assert "Location" not in response
    assert fetch(f"{link.split('?')[0]}")[0] == 403


def test_two_uploads_of_one_name_keep_both_files(store, people, django_capture_on_commit_callbacks):
    s3, bucket = store
    manager = people[0]
    first, second = project_of("bbox", people), project_of("bbox", people)
    small, big = png_bytes(20, 20).getvalue(), png_bytes(90, 60).getvalue()
    upload(manager, first, {"same.png": small}, django_capture_on_commit_callbacks)
    upload(manager, first, {"other.png": small}, django_capture_on_commit_callbacks)
    Task.objects.filter(project=first, external_id="same.png").update(external_id="kept")
    upload(manager, first, {"same.png": big}, django_capture_on_commit_callbacks)
    old, new = Task.objects.get(external_id="kept"), Task.objects.get(external_id="same.png")
    assert old.media.name != new.media.name
    assert s3.get_object(Bucket=bucket, Key=old.media.name)["Body"].read() == small
    assert s3.get_object(Bucket=bucket, Key=new.media.name)["Body"].read() == big
    assert second.tasks.count() == 0


def test_audio_from_a_zip_is_checked_and_served_with_byte_ranges(
    store, people, client, django_capture_on_commit_callbacks
):
    s3, bucket = store
    manager, _reviewer, contributor, _ = people
    project = project_of("transcription", people)
    clip = wav_bytes(2.0).getvalue()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("clips/one.wav", clip)
    job = upload(manager, project, {"clips.zip": archive.getvalue()},
                 django_capture_on_commit_callbacks)  # fmt: skip
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.errors
    task = Task.objects.get(project=project)
    assert task.media_meta == {"duration": 2.0, "format": "wav"}  # mutagen read it
    response = logged_in(client, contributor).get(task.data["audio"])
    status, headers, content = fetch(response["Location"], {"Range": "bytes=100-199"})
    assert (status, headers["Content-Range"], content) == (
        206,
        f"bytes 100-199/{len(clip)}",
        clip[100:200],
    )
    assert headers["Content-Type"] == "audio/x-wav" or headers["Content-Type"].startswith("audio/")
    assert not [key for key in bucket_keys(s3, bucket) if "/imports/" in key]


def test_a_bad_file_is_refused_and_nothing_stays_in_the_bucket(
    store, people, django_capture_on_commit_callbacks
):
    s3, bucket = store
    manager = people[0]
    project = project_of("bbox", people)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("good.png", png_bytes(10, 10).getvalue())
        z.writestr("bad.png", b"not an image at all")
    job = upload(manager, project, {"pack.zip": archive.getvalue()},
                 django_capture_on_commit_callbacks)  # fmt: skip
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert any("bad.png" in error for error in job.errors)
    assert bucket_keys(s3, bucket) == []
    assert project.tasks.count() == 0


def test_the_editor_and_the_review_screen_load_media_from_the_store(
    store, people, client, django_capture_on_commit_callbacks
):
    manager, reviewer, contributor, _ = people
    project = project_of("bbox", people, quality={"review_share": 1.0})  # every answer reviewed
    photo = png_bytes(120, 80).getvalue()
    upload(manager, project, {"street.png": photo}, django_capture_on_commit_callbacks)
    task = Task.objects.get(project=project)
    api = APIClient()
    api.force_authenticate(contributor)
    claimed = api.post(f"/api/v1/projects/{project.pk}/next/")
    assert claimed.status_code == 200
    media_url = claimed.json()["task"]["data"]["image"]
    assert media_url == f"/tasks/{task.pk}/media/"
    page = logged_in(client, contributor).get(f"/projects/{project.pk}/label/")
    assert media_url in page.content.decode()
    assert fetch(client.get(media_url)["Location"])[2] == photo
    client.logout()
    assignment = claimed.json()["assignment"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        submitted = api.post(
            f"/api/v1/assignments/{assignment}/submit/",
            {"result": {"boxes": []}, "active_seconds": 5},
            format="json",
        )
    assert submitted.status_code == 201, submitted.content
    review = logged_in(client, reviewer).get(f"/projects/{project.pk}/reviews/{task.pk}/")
    assert review.status_code == 200
    assert media_url in review.content.decode()
    assert fetch(client.get(media_url)["Location"])[2] == photo


@override_settings(LABELHUB_EXPORT_SYNC_LIMIT=0)
def test_an_export_job_is_written_to_the_bucket_and_downloads_by_a_link(
    store, people, client, django_capture_on_commit_callbacks
):
    s3, bucket = store
    manager, reviewer, contributor, _ = people
    project = project_of("bbox", people)
    upload(manager, project, {"a.png": png_bytes(100, 100).getvalue()},
           django_capture_on_commit_callbacks)  # fmt: skip
    task = Task.objects.get(project=project)
    result = {"boxes": [{"label": "cat", "x": 1, "y": 2, "w": 30, "h": 40}]}
    answer(task, contributor, result)
    settle(task, result)
    logged_in(client, manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/projects/{project.pk}/export/", {"format": "coco", "accepted_only": "on"})
    job = ExportJob.objects.get(project=project)
    assert job.status == ExportStatus.DONE, job.error
    assert job.file.name in bucket_keys(s3, bucket)
    response = client.get(f"/projects/{project.pk}/export/{job.pk}/download/")
    assert response.status_code == 302
    status, headers, content = fetch(response["Location"])
    assert status == 200
    assert headers["Content-Disposition"] == f"attachment; filename*=UTF-8''{job.filename}"
    assert headers["Content-Type"] == job.content_type
    assert [a["bbox"] for a in json.loads(content)["annotations"]] == [[1, 2, 30, 40]]
    client.logout()
    logged_in(client, reviewer)
    assert client.get(f"/projects/{project.pk}/export/{job.pk}/download/").status_code == 404


def test_an_api_export_in_the_bucket_resumes_by_range_at_the_stores_link(
    store, people, django_capture_on_commit_callbacks
):
    """The API's export download redirects to the store, which answers ranges itself: the
    client resumes a broken download from an object store as it does from the app."""
    manager, _reviewer, contributor, _ = people
    project = project_of("bbox", people)
    for n in range(30):
        task = Task.objects.create(project=project, data={"image": f"https://x/{n}.png"})
        answer(task, contributor, {"boxes": []})
        settle(task, {"boxes": []})
    api = APIClient()
    api.force_authenticate(manager)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(f"/api/v1/projects/{project.pk}/exports/", {"format": "coco"})
    job = api.get(f"/api/v1/exports/{created.json()['id']}/").json()
    assert job["status"] == "done"
    response = api.get(f"/api/v1/exports/{job['id']}/download/")
    assert response.status_code == 302
    status, headers, whole = fetch(response["Location"])
    assert (status, len(whole)) == (200, job["size"])
    status, headers, rest = fetch(response["Location"], {"Range": "bytes=100-"})
    assert status == 206
    assert headers["Content-Range"] == f"bytes 100-{len(whole) - 1}/{len(whole)}"
    assert rest == whole[100:]


def test_deleting_tasks_removes_their_objects(
    store, people, client, django_capture_on_commit_callbacks
):
    s3, bucket = store
    manager = people[0]
    project = project_of("bbox", people)
    upload(manager, project, {"x.png": png_bytes(30, 30).getvalue()},
           django_capture_on_commit_callbacks)  # fmt: skip
    assert len(bucket_keys(s3, bucket)) == 2  # the image and its thumbnail
    task = Task.objects.get(project=project)
    api = APIClient()
    api.force_authenticate(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/projects/{project.pk}/tasks/bulk/",
            {"action": "delete", "tasks": [task.pk], "confirm": True},
            format="json",
        )
    assert response.status_code == 200, response.content
    assert bucket_keys(s3, bucket) == []


def test_the_s3_settings_come_from_the_environment_and_the_disk_stays_the_default(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config import settings as lh

    assert lh.media_storage("") == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    monkeypatch.delenv("S3_BUCKET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="S3_BUCKET"):
        lh.media_storage("s3")
    monkeypatch.setenv("S3_BUCKET", "media")
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://store.internal:9000")
    monkeypatch.setenv("S3_ADDRESSING_STYLE", "path")
    options = lh.media_storage("S3")["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"]) == (
        "media",
        "http://store.internal:9000",
    )
    assert options["file_overwrite"] is False
    assert options["default_acl"] is None
    monkeypatch.setattr(lh, "STORAGES", {"default": lh.media_storage("s3")})
    assert lh.object_store_origins() == ["http://store.internal:9000"]
    monkeypatch.setenv("S3_ADDRESSING_STYLE", "virtual")
    assert lh.object_store_origins()[1] == "http://*.store.internal:9000"
