"""Small frictions of a team's first day, in a real Chromium: the import form offers only the
kind's formats, the connect form keeps its defaults after the first backend, an open project is
not offered to its reviewer, and a preview says where the editor starts once."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from annotation.services import task_create
from labelhub.models import OrganizationMember, Role
from tests.e2e.test_review import log_in
from tests.factories import make_organization, make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_import_form_offers_only_the_kinds_formats(live_server, page: Page):
    manager = make_user()
    conversation = make_project(kind="conversation", members={manager: Role.MANAGER})
    boxes = make_project(kind="bbox", members={manager: Role.MANAGER})
    log_in(page, live_server, manager)
    page.goto(live_server.url + reverse("annotation:task-list", args=[conversation.pk]))
    formats = page.get_by_test_id("import-formats")
    expect(formats).to_contain_text("JSONL")
    expect(formats).not_to_contain_text("COCO")
    expect(formats).not_to_contain_text("image")
    expect(page.get_by_label("A COCO file's boxes go in")).to_have_count(0)
    page.goto(live_server.url + reverse("annotation:task-list", args=[boxes.pk]))
    expect(page.get_by_test_id("import-formats")).to_contain_text("a COCO file of boxes")
    expect(page.get_by_label("A COCO file's boxes go in")).to_be_visible()


def test_the_connect_form_keeps_its_defaults_after_the_first_backend(
    live_server, page: Page, settings
):
    settings.MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES = True
    manager = make_user()
    project = make_project(kind="bbox", members={manager: Role.MANAGER})
    log_in(page, live_server, manager)
    page.goto(live_server.url + reverse("backends:list", args=[project.pk]))
    form = page.get_by_test_id("backend-form")
    expect(form.get_by_label("Enabled")).to_be_checked()
    expect(form.get_by_label("Predict on import")).to_be_checked()
    form.get_by_label("Name").fill("Faces")
    form.get_by_label("URL").fill("http://127.0.0.1:9/")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Backend “Faces” saved.")).to_be_visible()
    form = page.get_by_test_id("backend-form")
    expect(form.get_by_label("Enabled")).to_be_checked()
    expect(form.get_by_label("Predict on import")).to_be_checked()
    page.reload()
    expect(page.get_by_test_id("backend-form").get_by_label("Enabled")).to_be_checked()


def test_an_open_project_is_not_offered_to_its_reviewer(live_server, page: Page):
    organization = make_organization("Acme AI")
    reviewer, outsider = make_user("rui"), make_user("lea")
    for person in (reviewer, outsider):
        OrganizationMember.objects.create(organization=organization, user=person)
    project = make_project(
        organization=organization,
        kind="ranking",
        name="Open answers",
        members={reviewer: Role.REVIEWER},
    )
    project.is_open = True
    project.save(update_fields=["is_open"])
    log_in(page, live_server, outsider)
    page.goto(live_server.url + "/")
    expect(page.get_by_test_id("open-project-card")).to_contain_text("Open answers")
    log_in(page, live_server, reviewer)
    page.goto(live_server.url + "/")
    expect(page.get_by_test_id("open-projects")).to_have_count(0)
    expect(page.get_by_role("button", name="Join as contributor")).to_have_count(0)


def test_the_preview_says_once_where_the_editor_starts(open_preview, console_errors):
    console_errors.expect("404")  # the image's address is made up: only the header matters
    manager = make_user()
    project = make_project(
        kind="bbox",
        schema={"labels": [{"name": "face", "color": "#ff0000", "hotkey": "1"}]},
        members={manager: Role.MANAGER},
    )
    box = {"label": "face", "x": 1, "y": 1, "w": 5, "h": 5}
    task = task_create(
        project=project,
        data={"image": "/media/not-there.jpg", "width": 640, "height": 480},
        predictions=[
            {"model": "Faces", "model_version": "v2", "score": 0.9, "result": {"boxes": [box]}}
        ],
    )
    page = open_preview(manager, task)
    header = page.locator(".page-head .help").first
    expect(header).to_contain_text("Starts from the prediction of Faces v2 (score 0.90).")
    assert header.inner_text().lower().count("starts from") == 1
