"""A manager exports a dataset from the export screen in a real browser."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page

from tests.exports.helpers import answer, make_world, settle
from tests.factories import make_task

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
