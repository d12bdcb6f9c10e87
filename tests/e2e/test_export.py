"""A manager exports datasets from the export screen in a real browser: COCO, YOLO with its
data.yaml, split and images, the contributors' mapping, and subtitles refused with the reason."""

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from annotation.services import task_create_with_media
from tests.exports.helpers import answer, make_world, settle
from tests.factories import make_task
from tests.media import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_downloads_a_coco_export_from_the_screen(live_server, page: Page, console_errors):
    project, manager, _r, contributor, _o = make_world()
    task = make_task(
        project=project, data={"image": "https://x/cat.jpg", "width": 50, "height": 40}
    )
    answer(task, contributor, {"boxes": [{"label": "dog", "x": 1, "y": 2, "w": 3, "h": 4}]})
    settle(task, {"boxes": [{"label": "dog", "x": 1, "y": 2, "w": 3, "h": 4}]})
    client = Client()
    client.force_login(manager)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_role("link", name="Export").click()
    page.get_by_label("COCO JSON").check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Export").click()
    download = info.value
    assert download.suggested_filename.endswith(".json")
    document = json.loads(Path(download.path()).read_text())
    assert [image["id"] for image in document["images"]] == [task.pk]
    assert [a["bbox"] for a in document["annotations"]] == [[1, 2, 3, 4]]
    assert console_errors == []


def log_in_as(page: Page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


def test_a_yolo_export_with_a_split_and_its_images_trains_as_it_comes(
    live_server, page: Page, console_errors
):
    project, manager, _r, contributor, _o = make_world()
    tasks = [
        task_create_with_media(
            project=project,
            media_field="image",
            file=png_bytes(80, 60),
            filename=f"crossing-{i}.png",
            external_id=f"crossing-{i}.png",
        )
        for i in range(8)
    ]
    for task in tasks:
        box = {"label": "cat", "x": 5, "y": 5, "w": 20, "h": 10}
        answer(task, contributor, {"boxes": [box]})
        settle(task, {"boxes": [box]})
    log_in_as(page, live_server, manager)
    page.goto(f"{live_server.url}/projects/{project.pk}/export/")
    page.get_by_label("YOLO (zip, with data.yaml)").check()
    page.get_by_label("Share held out for validation").fill("0.25")
    page.get_by_label("Include the images").check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Export").click()
    first = info.value
    archive = zipfile.ZipFile(first.path())
    data = yaml.safe_load(archive.read("data.yaml"))
    assert data["names"] == {0: "cat", 1: "dog"}
    assert (data["train"], data["val"]) == ("images/train", "images/val")
    images = [n for n in archive.namelist() if n.startswith("images/")]
    assert len(images) == 8
    for name in images:  # each image has its labels beside it, as Ultralytics looks for them
        labels = name.replace("images/", "labels/", 1).removesuffix(".png") + ".txt"
        assert archive.read(labels).decode().startswith("0 ")

    # The same export again: another file name.
    with page.expect_download() as info:
        page.get_by_role("button", name="Export").click()
    assert info.value.suggested_filename != first.suggested_filename

    # Who is behind the pseudonyms: a file for managers.
    page.get_by_label("Contributors: who each pseudonymous id in the exports is").check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Export").click()
    people = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert [row["username"] for row in people] == [contributor.username]
    assert console_errors == []


def test_subtitles_of_transcripts_without_segments_say_why(live_server, page: Page, console_errors):
    console_errors.expect("status of 422")  # the refused export, on purpose
    project, manager, _r, contributor, _o = make_world(kind="transcription")
    task = make_task(project=project, data={"audio": "https://cdn.example.com/call.mp3"})
    answer(task, contributor, {"text": "hello"})
    settle(task, {"text": "hello"})
    log_in_as(page, live_server, manager)
    page.goto(f"{live_server.url}/projects/{project.pk}/export/")
    page.get_by_label("WebVTT subtitles (zip)").check()
    page.get_by_role("button", name="Export").click()
    error = page.get_by_test_id("export-form").locator(".field-error")
    expect(error).to_contain_text("Subtitles are made of timed segments")
    expect(error).to_contain_text("Export JSON lines or CSV for the text")
    assert console_errors == []
