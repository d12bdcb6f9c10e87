"""Exports as customers train from them: YOLO's data.yaml read with PyYAML and a stable train/val
split, YOLO and VOC with their images, transcripts naming media by a URL the customer's token
fetches, subtitles refused (with why) when there are no segments, one pseudonymous id per person
in every format with a managers-only mapping, and file names that never repeat."""

import csv
import io
import json
import re
import zipfile
from xml.etree import ElementTree as ET

import pytest
import yaml

from annotation.services import task_create_with_media
from labelhub.accounts import api_token_issue
from labelhub.models import Role
from quality.models import Review
from tests.exports.helpers import answer, api, body, make_world, settle
from tests.factories import make_project, make_task, make_user
from tests.media import png_bytes, wav_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.media]

CAT = {"label": "cat", "x": 10, "y": 20, "w": 100, "h": 50}


def export(project, manager, fmt, **params):
    response = api(manager).get(f"/api/v1/projects/{project.pk}/export/", {"format": fmt, **params})
    assert response.status_code == 200, response.content
    return response, body(response)


def filename(response) -> str:
    return re.search(r'filename="([^"]+)"', response["Content-Disposition"]).group(1)


@pytest.fixture
def photos():
    """Ten uploaded images and one given by URL, each with an accepted cat."""
    project, manager, _reviewer, contributor, _outsider = make_world()
    uploaded = [
        task_create_with_media(
            project=project,
            media_field="image",
            file=png_bytes(64, 48),
            filename=f"street-{i}.png",
            external_id=f"street-{i}.png",  # as an upload through the import names it
        )
        for i in range(10)
    ]
    linked = make_task(
        project=project,
        data={"image": "https://cdn.example.com/far/away.jpg", "width": 640, "height": 480},
    )
    for task in [*uploaded, linked]:
        answer(task, contributor, {"boxes": [CAT]})
        settle(task, {"boxes": [CAT]})
    return project, manager, uploaded, linked


def test_yolo_comes_with_a_data_yaml_that_pyyaml_reads_and_a_stable_split(photos):
    project, manager, *_ = photos
    _, content = export(project, manager, "yolo", val_split="0.3")
    archive = zipfile.ZipFile(io.BytesIO(content))
    data = yaml.safe_load(archive.read("data.yaml"))
    assert data["names"] == {0: "cat", 1: "dog"}
    assert data["nc"] == 2
    assert (data["train"], data["val"]) == ("images/train", "images/val")
    train = {n for n in archive.namelist() if n.startswith("labels/train/")}
    val = {n for n in archive.namelist() if n.startswith("labels/val/")}
    assert len(train) + len(val) == 11
    assert train  # 0.3 of 11 tasks: some on each side
    assert val
    # The same tasks fall on the same side in the next export.
    _, again = export(project, manager, "yolo", val_split="0.3")
    again = zipfile.ZipFile(io.BytesIO(again))
    assert {n for n in again.namelist() if n.startswith("labels/val/")} == val

    # Without a split, val is the training set itself (Ultralytics needs one).
    _, plain = export(project, manager, "yolo")
    data = yaml.safe_load(zipfile.ZipFile(io.BytesIO(plain)).read("data.yaml"))
    assert (data["train"], data["val"]) == ("images", "images")


def test_yolo_and_voc_carry_the_uploaded_images_and_list_the_ones_given_by_url(photos):
    project, manager, uploaded, linked = photos
    _, content = export(project, manager, "yolo", images="true", val_split="0.3")
    archive = zipfile.ZipFile(io.BytesIO(content))
    images = sorted(n for n in archive.namelist() if n.startswith("images/"))
    assert len(images) == 10
    for name in images:  # every image beside its labels, under the same stem
        label = re.sub(r"^images/(\w+)/(.*)\.png$", r"labels/\1/\2.txt", name)
        assert label in archive.namelist(), name
    first = uploaded[0]
    first.refresh_from_db()
    [name] = [n for n in images if n.endswith("/street-0.png")]
    with first.media.open("rb") as stored:
        assert archive.read(name) == stored.read()
    missing = archive.read("images_missing.txt").decode()
    assert f"task {linked.pk}: https://cdn.example.com/far/away.jpg" in missing

    _, content = export(project, manager, "voc", images="true", val_split="0.3")
    voc = zipfile.ZipFile(io.BytesIO(content))
    jpeg = sorted(n for n in voc.namelist() if n.startswith("JPEGImages/"))
    assert len(jpeg) == 10
    root = ET.fromstring(voc.read("Annotations/street-3.xml"))
    assert f"JPEGImages/{root.findtext('filename')}" in jpeg
    sets = {
        name: voc.read(f"ImageSets/Main/{name}.txt").decode().split()
        for name in ("train", "val", "trainval")
    }
    assert sorted(sets["train"] + sets["val"]) == sorted(sets["trainval"])
    assert len(sets["trainval"]) == 11
    assert "images_missing.txt" in voc.namelist()


@pytest.fixture
def clips():
    """An uploaded clip and one given by URL, each answered by two contributors; one review."""
    manager, reviewer, ana, ben, outsider = (make_user() for _ in range(5))
    project = make_project(
        kind="transcription",
        schema={"media": "audio"},
        members={
            manager: Role.MANAGER,
            reviewer: Role.REVIEWER,
            ana: Role.CONTRIBUTOR,
            ben: Role.CONTRIBUTOR,
        },
    )
    uploaded = task_create_with_media(
        project=project,
        media_field="audio",
        file=wav_bytes(),
        filename="interview-7.wav",
        external_id="interview-7.wav",
    )
    linked = make_task(project=project, data={"audio": "https://cdn.example.com/a/b/call.mp3"})
    for task in (uploaded, linked):
        reviewed = answer(task, ana, {"text": "hello there"})
        answer(task, ben, {"text": "hello there"})
        settle(task, {"text": "hello there"})
    review = Review.objects.create(
        task=linked, project=project, reviewer=reviewer, verdict="accept", reason="sampled"
    )
    reviewed.quality_reviews.create(review=review, judgement="accepted", score=1.0)
    return project, manager, reviewer, (ana, ben), outsider, uploaded, linked


def test_transcripts_name_media_by_a_url_the_customers_token_fetches(client, clips):
    project, manager, _reviewer, _people, outsider, uploaded, linked = clips
    _, content = export(project, manager, "jsonl")
    rows = {row["task_id"]: row for row in map(json.loads, content.splitlines())}
    mine = rows[uploaded.pk]
    assert mine["media"] == f"http://testserver/tasks/{uploaded.pk}/media/"
    assert mine["file_name"] == "interview-7.wav"
    assert "projects/" not in json.dumps(rows)  # never a path inside LabelHub's storage
    assert rows[linked.pk]["media"] == "https://cdn.example.com/a/b/call.mp3"
    assert rows[linked.pk]["file_name"] == "call.mp3"

    token = api_token_issue(user=manager).key
    fetched = client.get(mine["media"], HTTP_AUTHORIZATION=f"Token {token}")
    if fetched.status_code == 302:  # MEDIA_STORAGE=s3: the role check passed, the store serves it
        assert "X-Amz-Signature=" in fetched["Location"]
    else:
        assert fetched.status_code == 200
        assert b"".join(fetched.streaming_content).startswith(b"RIFF")
    assert client.get(mine["media"]).status_code == 404
    assert client.get(mine["media"], HTTP_AUTHORIZATION="Token nonsense").status_code == 404
    stranger = api_token_issue(user=outsider).key
    assert client.get(mine["media"], HTTP_AUTHORIZATION=f"Token {stranger}").status_code == 404

    _, table = export(project, manager, "csv")
    table = list(csv.DictReader(io.StringIO(table.decode())))
    assert {r["file_name"] for r in table} == {"interview-7.wav", "call.mp3"}


def test_subtitles_without_segments_say_why_instead_of_an_empty_zip(clips, client):
    project, manager, *_ = clips
    for fmt in ("vtt", "srt"):
        response = api(manager).get(f"/api/v1/projects/{project.pk}/export/", {"format": fmt})
        assert response.status_code == 400
        assert response.json()["code"] == "nothing_to_write"
        assert "timed segments" in response.json()["detail"]
    client.force_login(manager)
    page = client.post(f"/projects/{project.pk}/export/", {"format": "vtt", "accepted_only": "on"})
    assert page.status_code == 422
    assert "Subtitles are made of timed segments" in page.content.decode()


def test_every_format_names_a_person_by_the_same_id_and_the_mapping_says_who(clips):
    project, manager, reviewer, (ana, ben), *_ = clips
    _, jsonl = export(project, manager, "jsonl")
    named = {c for row in map(json.loads, jsonl.splitlines()) for c in row["contributors"]}
    _, audit = export(project, manager, "audit")
    audit = [json.loads(line) for line in audit.splitlines()]
    in_audit = {row["contributor"] for row in audit}
    reviewers = {r["reviewer"] for row in audit for r in row["reviews"]}
    _, table = export(project, manager, "csv")
    in_csv = {
        c
        for row in csv.DictReader(io.StringIO(table.decode()))
        for c in row["contributors"].split(";")
    }
    assert named == in_audit == in_csv
    assert len(named) == 2

    response, mapping = export(project, manager, "contributors")
    assert response["Content-Type"].startswith("text/csv")
    people = {row["contributor"]: row for row in csv.DictReader(io.StringIO(mapping.decode()))}
    assert {people[c]["username"] for c in named} == {ana.username, ben.username}
    assert {people[c]["username"] for c in reviewers} == {reviewer.username}
    assert people[next(iter(reviewers))]["reviews"] == "1"
    # Managers only: anyone else gets 404.
    assert (
        api(ana)
        .get(f"/api/v1/projects/{project.pk}/export/", {"format": "contributors"})
        .status_code
        == 404
    )


def test_two_exports_never_get_the_same_file_name(photos):
    project, manager, *_ = photos
    names = [filename(export(project, manager, "coco")[0]) for _ in range(3)]
    assert len(set(names)) == 3
    assert all(
        re.fullmatch(rf"project-{project.pk}-coco-\d{{8}}-\d{{6}}-d\d+\.json", n) for n in names
    )


def test_a_background_export_is_named_by_its_job(photos, django_capture_on_commit_callbacks):
    from exports.models import ExportJob
    from exports.selectors import ExportOptions
    from exports.services import export_job_create

    project, manager, *_ = photos
    with django_capture_on_commit_callbacks(execute=True):
        first = export_job_create(
            project=project, user=manager, format_name="yolo", options=ExportOptions()
        )
        second = export_job_create(
            project=project, user=manager, format_name="yolo", options=ExportOptions()
        )
    first, second = ExportJob.objects.get(pk=first.pk), ExportJob.objects.get(pk=second.pk)
    assert first.filename.endswith(f"-job{first.pk}.zip")
    assert first.filename != second.filename


def test_a_subtitle_job_is_refused_before_it_is_queued(clips):
    from exports.selectors import ExportOptions
    from exports.services import ExportRefused, export_job_create

    project, manager, *_ = clips
    with pytest.raises(ExportRefused, match="timed segments") as refused:
        export_job_create(project=project, user=manager, format_name="srt", options=ExportOptions())
    assert (refused.value.code, refused.value.status) == ("nothing_to_write", 400)


def test_coco_images_say_where_to_fetch_them(photos):
    project, manager, uploaded, linked = photos
    _, content = export(project, manager, "coco")
    images = {image["id"]: image for image in json.loads(content)["images"]}
    assert images[uploaded[0].pk]["coco_url"] == f"http://testserver/tasks/{uploaded[0].pk}/media/"
    assert images[linked.pk]["coco_url"] == "https://cdn.example.com/far/away.jpg"


def test_a_segmented_project_writes_subtitles_and_lists_the_clips_without(clips):
    project, manager, _r, _people, _o, uploaded, linked = clips
    from quality.models import TaskOutcome

    TaskOutcome.objects.filter(task=uploaded).update(
        accepted_result={"text": "hi", "segments": [{"start": 0.0, "end": 1.0, "text": "hi"}]}
    )
    _, content = export(project, manager, "vtt")
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.namelist() == [f"{uploaded.pk}-interview-7.vtt", "no_segments.txt"]
    assert f"task {linked.pk} (call.mp3): no segments" in archive.read("no_segments.txt").decode()


def test_the_export_form_offers_split_and_images_to_box_projects_only(client, photos, clips):
    project, manager, *_ = photos
    client.force_login(manager)
    html = client.get(f"/projects/{project.pk}/export/").content.decode()
    assert "Share held out for validation" in html
    assert "Include the images" in html
    transcripts, clips_manager, *_ = clips
    client.force_login(clips_manager)
    html = client.get(f"/projects/{transcripts.pk}/export/").content.decode()
    assert "Share held out for validation" not in html


def test_an_uploaded_file_keeps_its_own_name_when_storage_had_to_rename_it():
    from exports.selectors import uploaded_name

    assert uploaded_name(stored="projects/3/media/cat.png", external_id="") == "cat.png"
    assert uploaded_name(stored="projects/3/media/cat_Ab3dE9z.png", external_id="cat.png") == (
        "cat.png"
    )
    assert uploaded_name(stored="projects/3/media/cat_2.png", external_id="cat.png") == (
        "cat_2.png"
    )
