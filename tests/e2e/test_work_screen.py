"""The contributor's work screen in a real Chromium: start, draw, autosave, reload, submit, skip."""

import time

import pytest
from playwright.sync_api import Page, expect

from annotation.models import Annotation, Assignment, AssignmentStatus
from annotation.services import task_create, task_create_with_media
from labelhub.models import Role
from tests.e2e.conftest import wait_js
from tests.e2e.test_editor_bbox import drag, to_page
from tests.factories import PASSWORD, make_project, make_user
from tests.media import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

BOX_SCHEMA = {
    "labels": [{"name": "person", "colour": "#e6194b", "hotkey": 1}],
    "min_size": 4,
    "allow_empty": True,
}


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("current-user")).to_have_text(username)


def mounted(page: Page) -> None:
    page.wait_for_selector("[data-editor-root][data-mounted=true]", state="attached")


def image_ready(page: Page) -> None:
    """The box editor has measured the image and fitted it (drawing works from then on)."""
    wait_js(page, "window.labelhubEditor?.ui && window.labelhubEditor.ui.view.scale !== 1")


def wait_for(condition, seconds: float = 5.0) -> bool:
    """Poll the database until ``condition()`` holds (the autosave runs in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def draw_box(page: Page) -> None:
    drag(page, to_page(page, 100, 80), to_page(page, 180, 160))


def test_contributor_labels_with_autosave_reload_submit_and_skip(
    live_server, page: Page, console_errors
):
    ana = make_user("ana")
    project = make_project(
        schema=BOX_SCHEMA, members={ana: Role.CONTRIBUTOR}, quality={"overlap": 1}
    )
    tasks = [
        task_create_with_media(
            project=project, media_field="image", file=png_bytes(), filename=f"img{n}.png"
        )
        for n in range(3)
    ]

    log_in(page, live_server, "ana")
    page.get_by_role("link", name="Label", exact=True).click()
    page.get_by_test_id("start").click()
    mounted(page)
    first = Assignment.objects.get(contributor=ana)
    expect(page.get_by_test_id("task-panel")).to_have_attribute("data-assignment", str(first.pk))

    image_ready(page)
    draw_box(page)
    expect(page.get_by_test_id("save-state")).to_have_text("Draft saved")
    assert wait_for(lambda: len(Assignment.objects.get(pk=first.pk).draft["boxes"]) == 1)

    page.reload()  # a closed tab or a crash loses nothing
    mounted(page)
    expect(page.get_by_test_id("save-state")).to_have_text("Draft restored")
    assert len(page.evaluate("window.labelhubEditor.getResult()")["boxes"]) == 1

    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("notice")).to_have_text("Submitted.")
    expect(page.get_by_test_id("progress")).to_contain_text("Done today 1")
    mounted(page)
    second = Assignment.objects.exclude(pk=first.pk).get(contributor=ana)
    expect(page.get_by_test_id("task-panel")).to_have_attribute("data-assignment", str(second.pk))
    annotation = Annotation.objects.get(assignment=first)
    assert annotation.result["boxes"][0]["label"] == "person"
    assert annotation.result["boxes"][0]["w"] == pytest.approx(80, abs=1)

    page.keyboard.press("Alt+s")
    expect(page.get_by_test_id("notice")).to_contain_text("Skipped")
    mounted(page)
    second.refresh_from_db()
    assert second.status == AssignmentStatus.SKIPPED

    page.get_by_test_id("submit").click()  # an empty image is allowed here
    expect(page.get_by_test_id("no-more-tasks")).to_be_visible()
    assert Annotation.objects.filter(contributor=ana).count() == 2
    assert {a.task_id for a in Assignment.objects.filter(contributor=ana)} == {t.pk for t in tasks}
    assert console_errors == []


def test_answer_the_editor_refuses_is_not_sent(live_server, page: Page, console_errors):
    ben = make_user("ben")
    schema = {"mode": "pairwise", "strength_scale": 3, "criteria": [], "rationale": "required"}
    project = make_project(kind="ranking", schema=schema, members={ben: Role.CONTRIBUTOR})
    task_create(
        project=project,
        data={
            "prompt": "Hi?",
            "responses": [{"id": "a", "text": "Hello"}, {"id": "b", "text": "Yo"}],
        },
    )
    log_in(page, live_server, "ben")
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.get_by_test_id("start").click()
    mounted(page)
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("submit-errors")).to_contain_text("cannot be submitted yet")
    assert not Annotation.objects.exists()
    assert console_errors == []


def _only_the_broken_file(errors: list[str]) -> list[str]:
    """Console errors other than the expected 404 of the missing file."""
    return [e for e in errors if "404" not in e]


@pytest.mark.parametrize(
    ("kind", "schema", "data"),
    [
        ("bbox", BOX_SCHEMA, {"image": "/static/img/missing-photo.png"}),
        ("transcription", {"media": "audio"}, {"audio": "/static/missing-clip.flac"}),
    ],
)
def test_media_that_never_loads_takes_no_answer_and_offers_a_broken_media_skip(
    live_server, page: Page, console_errors, kind, schema, data
):
    console_errors.expect("404")  # the missing file, and nothing else
    ana = make_user("ana")
    project = make_project(kind=kind, schema=schema, members={ana: Role.CONTRIBUTOR})
    task_create(project=project, data=data)
    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.get_by_test_id("start").click()
    mounted(page)

    offer = page.get_by_test_id("media-broken")
    expect(offer).to_be_visible()
    expect(page.get_by_test_id("submit")).to_be_disabled()
    if kind == "bbox":
        expect(page.get_by_test_id("bbox-hint")).to_contain_text("did not load")
        stage = page.get_by_test_id("bbox-stage").bounding_box()
        x, y = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2
        drag(page, (x - 60, y - 60), (x + 60, y + 60))
        assert page.evaluate("window.labelhubEditor.getResult()")["boxes"] == []
    else:
        page.get_by_test_id("tx-text").fill("words heard nowhere")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("submit-errors")).to_contain_text("did not load")
    assert not Annotation.objects.exists()

    page.get_by_test_id("skip-broken").click()
    expect(page.get_by_test_id("no-more-tasks")).to_be_visible()
    skipped = Assignment.objects.get(contributor=ana)
    assert (skipped.status, skipped.skip_reason) == (AssignmentStatus.SKIPPED, "broken")
    assert _only_the_broken_file(console_errors) == []


LAYOUT = """() => {
    const box = (selector) => {
        const r = document.querySelector(selector).getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, height: r.height};
    };
    const tops = [...document.querySelectorAll('.editor-toolbar button')]
        .map((b) => Math.round(b.getBoundingClientRect().top));
    return {image: box('.bbox-image'), stage: box('.bbox-stage'), actions: box('.work-actions'),
            toolbar: box('.editor-toolbar'), toolbarRows: new Set(tops).size,
            viewport: innerHeight};
}"""


def test_the_fitted_image_clears_the_submit_bar_and_the_first_task_shows_the_instructions(
    live_server, page: Page, console_errors
):
    ana = make_user("ana")
    schema = {
        "labels": [
            {"name": name, "colour": "#e6194b", "hotkey": n}
            for n, name in enumerate(["person", "car", "bicycle", "dog"], start=1)
        ],
        "min_size": 4,
        "allow_empty": True,
    }
    project = make_project(schema=schema, members={ana: Role.CONTRIBUTOR})
    project.instructions = "# Boxes\n\nDraw a tight box around every *person*."
    project.save()
    for n in range(3):
        task_create_with_media(
            project=project, media_field="image", file=png_bytes(800, 600), filename=f"p{n}.png"
        )
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.get_by_test_id("start").click()
    mounted(page)
    image_ready(page)

    drawer = page.get_by_test_id("instructions")
    expect(drawer).to_be_visible()  # the first task opens with the instructions
    expect(drawer).to_contain_text("tight box around every person")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    draw_box(page)
    page.keyboard.press("Escape")  # with the drawer closed, Esc reaches the editor: deselect
    assert page.evaluate("window.labelhubEditor.state.selectedId") is None

    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("notice")).to_have_text("Submitted.")
    mounted(page)
    image_ready(page)
    expect(drawer).to_be_hidden()  # only the first task opens them
    # The fit follows the new task's image and the banner by a frame or two: wait for it (a stage
    # that never fits fails here after the timeout), then check every figure.
    wait_js(
        page,
        "document.querySelector('.bbox-image').getBoundingClientRect().bottom <= "
        "document.querySelector('.work-actions').getBoundingClientRect().top && "
        "document.querySelector('.bbox-stage').getBoundingClientRect().height >= 560",
    )
    layout = page.evaluate(LAYOUT)
    assert layout["toolbarRows"] == 1, layout
    assert layout["image"]["bottom"] <= layout["actions"]["top"], layout
    assert layout["stage"]["bottom"] <= layout["actions"]["top"], layout
    assert layout["actions"]["bottom"] <= layout["viewport"] + 1, layout
    assert layout["stage"]["height"] >= 560, layout  # the space left, not a fixed guess

    page.set_viewport_size({"width": 800, "height": 600})
    wait_js(
        page,
        "document.querySelector('.bbox-stage').getBoundingClientRect().bottom < 600 && "
        "document.querySelector('.bbox-image').getBoundingClientRect().bottom <= "
        "document.querySelector('.work-actions').getBoundingClientRect().top",
    )
    layout = page.evaluate(LAYOUT)
    assert layout["stage"]["top"] <= 260, layout  # head, status and toolbars together
    assert layout["toolbarRows"] <= 2, layout
    assert layout["image"]["bottom"] <= layout["actions"]["top"], layout
    assert layout["stage"]["height"] >= 240, layout
    assert console_errors == []
