"""The bounding-box editor in a real Chromium, on the preview page, with a real PNG.

Positions are computed from where the browser actually draws the image (its bounding box on the
page), never from the editor's own view, so a wrong screen→image transform fails these tests.
"""

import json

import pytest
from playwright.sync_api import Page, expect

from annotation.services import task_create_with_media
from labelhub.models import Role
from tests.e2e.conftest import wait_js
from tests.factories import make_project, make_user
from tests.media import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {
    "labels": [
        {"name": "person", "colour": "#e6194b", "hotkey": 1},
        {"name": "car", "colour": "#4363d8", "hotkey": 2},
    ],
    "min_size": 8,
    "allow_empty": True,
}


@pytest.fixture
def manager():
    return make_user("maria")


@pytest.fixture
def make_image_task(manager):
    def make(predictions=None, width=400, height=300):
        project = make_project(schema=SCHEMA, members={manager: Role.MANAGER})
        return task_create_with_media(
            project=project,
            media_field="image",
            file=png_bytes(width, height),
            filename="grid.png",
            predictions=predictions,
        )

    return make


def to_page(page: Page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of the image pixel (x, y), from the image's drawn rectangle."""
    rect = page.evaluate(
        """async () => {
            // The editor draws on the next animation frame: measure after it has.
            await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
            const image = document.querySelector('.bbox-image');
            const r = image.getBoundingClientRect();
            const natural = Number(image.getAttribute('width'));
            return {left: r.left, top: r.top, width: r.width, natural};
        }"""
    )
    scale = rect["width"] / rect["natural"]
    return rect["left"] + x * scale, rect["top"] + y * scale


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=3)
    page.mouse.move(*end, steps=3)
    page.mouse.up()


def shown_result(page: Page) -> dict:
    return json.loads(page.get_by_test_id("result-json").inner_text())


def assert_box(box: dict, expected: dict) -> None:
    assert box["label"] == expected["label"]
    for key in ("x", "y", "w", "h"):
        assert abs(box[key] - expected[key]) <= 1, (key, box, expected)


def wait_ready(page: Page) -> None:
    page.wait_for_selector("[data-editor-root] .bbox-editor")
    wait_js(page, "window.labelhubEditor && window.labelhubEditor.ui.view.scale !== 1")


def test_box_drawn_by_drag_is_in_image_pixels_at_fit_zoom(
    open_preview, manager, make_image_task, console_errors
):
    page = open_preview(manager, make_image_task())
    wait_ready(page)
    drag(page, to_page(page, 50, 40), to_page(page, 210, 160))

    result = shown_result(page)
    assert len(result["boxes"]) == 1
    assert_box(result["boxes"][0], {"label": "person", "x": 50, "y": 40, "w": 160, "h": 120})
    assert (result["width"], result["height"]) == (400, 300)
    expect(page.get_by_test_id("check-result")).to_contain_text("The server accepts this result")
    assert console_errors == []


def test_box_drawn_after_zooming_in_keeps_image_pixels(
    open_preview, manager, make_image_task, console_errors
):
    page = open_preview(manager, make_image_task())
    wait_ready(page)
    fit_scale = page.evaluate("window.labelhubEditor.ui.view.scale")
    page.get_by_test_id("bbox-stage").focus()
    page.keyboard.press("=")
    page.keyboard.press("=")
    zoomed = page.evaluate("window.labelhubEditor.ui.view.scale")
    assert zoomed == pytest.approx(fit_scale * 1.5625)
    drag(page, to_page(page, 180, 130), to_page(page, 230, 170))
    assert_box(
        shown_result(page)["boxes"][0], {"label": "person", "x": 180, "y": 130, "w": 50, "h": 40}
    )

    # The wheel zooms around the cursor: the image pixel under the mouse stays under it.
    before = to_page(page, 200, 150)
    page.mouse.move(*before)
    page.mouse.wheel(0, -400)
    wait_js(page, f"window.labelhubEditor.ui.view.scale > {zoomed * 1.2}")
    after = to_page(page, 200, 150)
    assert abs(after[0] - before[0]) < 1
    assert abs(after[1] - before[1]) < 1
    assert console_errors == []


def test_move_resize_undo_redo_delete_and_label_hotkeys(
    open_preview, manager, make_image_task, console_errors
):
    prediction = {"boxes": [{"label": "person", "x": 100, "y": 100, "w": 100, "h": 50}]}
    page = open_preview(manager, make_image_task(predictions=[prediction]))
    wait_ready(page)
    assert shown_result(page)["boxes"] == prediction["boxes"]  # the prediction is the start

    # Move by dragging the body 40 px right, 20 px down (image pixels).
    drag(page, to_page(page, 150, 125), to_page(page, 190, 145))
    assert_box(
        shown_result(page)["boxes"][0], {"label": "person", "x": 140, "y": 120, "w": 100, "h": 50}
    )

    # Resize by the south-east handle to (300, 200).
    drag(page, to_page(page, 240, 170), to_page(page, 300, 200))
    assert_box(
        shown_result(page)["boxes"][0], {"label": "person", "x": 140, "y": 120, "w": 160, "h": 80}
    )

    # The west handle: the right edge stays put.
    drag(page, to_page(page, 140, 160), to_page(page, 120, 160))
    assert_box(
        shown_result(page)["boxes"][0], {"label": "person", "x": 120, "y": 120, "w": 180, "h": 80}
    )

    page.keyboard.press("2")  # relabel the selected box
    assert shown_result(page)["boxes"][0]["label"] == "car"
    page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("ArrowUp")
    assert_box(
        shown_result(page)["boxes"][0], {"label": "car", "x": 110, "y": 119, "w": 180, "h": 80}
    )

    for _ in range(3):
        page.keyboard.press("Control+z")
    assert_box(
        shown_result(page)["boxes"][0], {"label": "person", "x": 120, "y": 120, "w": 180, "h": 80}
    )
    page.keyboard.press("Control+Shift+z")
    assert shown_result(page)["boxes"][0]["label"] == "car"

    page.keyboard.press("Control+d")
    boxes = shown_result(page)["boxes"]
    assert len(boxes) == 2
    assert_box(boxes[1], {"label": "car", "x": 130, "y": 130, "w": 180, "h": 80})
    page.keyboard.press("Delete")
    assert len(shown_result(page)["boxes"]) == 1
    expect(page.get_by_test_id("box-item")).to_have_count(1)

    page.keyboard.press("h")
    expect(page.get_by_test_id("box")).to_have_count(0)
    page.keyboard.press("h")
    expect(page.get_by_test_id("box")).to_have_count(1)
    assert console_errors == []


def test_a_label_key_after_drawing_chooses_the_next_label_and_relabels_only_a_picked_box(
    open_preview, manager, make_image_task, console_errors
):
    """Draw, press the next label's key, draw: the first box keeps its label."""
    page = open_preview(manager, make_image_task())
    wait_ready(page)
    mode = page.get_by_test_id("bbox-key-mode")
    drag(page, to_page(page, 20, 20), to_page(page, 120, 100))  # person, selected as drawn
    expect(mode).to_contain_text("next box's label: person")
    page.keyboard.press("2")
    expect(mode).to_contain_text("next box's label: car")
    drag(page, to_page(page, 200, 150), to_page(page, 300, 250))
    assert [box["label"] for box in shown_result(page)["boxes"]] == ["person", "car"]

    # Picking a box on purpose (a click on it) makes the keys relabel it, and the screen says so.
    page.mouse.click(*to_page(page, 70, 60))
    expect(mode).to_contain_text("relabel box 1")
    expect(page.locator("[data-editor-root] .bbox-editor").locator("..")).to_have_attribute(
        "data-key-mode", "relabel"
    )
    page.keyboard.press("2")
    assert [box["label"] for box in shown_result(page)["boxes"]] == ["car", "car"]
    page.keyboard.press("Escape")
    expect(mode).to_contain_text("next box's label")
    page.keyboard.press("1")
    assert [box["label"] for box in shown_result(page)["boxes"]] == ["car", "car"]

    # [ and ] pick too.
    page.keyboard.press("]")
    expect(mode).to_contain_text("relabel box 1")
    page.keyboard.press("1")
    assert [box["label"] for box in shown_result(page)["boxes"]] == ["person", "car"]
    assert console_errors == []


def test_boxes_are_clamped_to_the_image(open_preview, manager, make_image_task, console_errors):
    page = open_preview(manager, make_image_task())
    wait_ready(page)
    page.get_by_test_id("bbox-stage").focus()
    page.keyboard.press("1")
    drag(page, to_page(page, 350, 250), to_page(page, 430, 330))  # past the corner
    assert_box(
        shown_result(page)["boxes"][0], {"label": "person", "x": 350, "y": 250, "w": 50, "h": 50}
    )
    page.keyboard.press("Shift+ArrowRight")  # already at the right edge
    assert shown_result(page)["boxes"][0]["x"] == 350
    assert console_errors == []


def test_box_below_the_minimum_size_is_refused_with_a_hint(
    open_preview, manager, make_image_task, console_errors
):
    page = open_preview(manager, make_image_task())
    wait_ready(page)
    drag(page, to_page(page, 100, 100), to_page(page, 104, 140))  # 4 px wide, minimum is 8
    expect(page.get_by_test_id("bbox-hint")).to_contain_text("at least 8 × 8 pixels")
    assert shown_result(page)["boxes"] == []
    assert console_errors == []


def test_help_overlay_lists_the_shortcuts_and_instructions_open_with_a_key(
    open_preview, manager, make_image_task, console_errors
):
    page = open_preview(manager, make_image_task())
    wait_ready(page)
    page.keyboard.press("?")
    help_dialog = page.get_by_test_id("shortcut-help")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Duplicate the selected box")
    expect(help_dialog).to_contain_text("Ctrl+Shift+Z")
    # Long key lists wrap between their alternatives: no description is squeezed to a word.
    shares = page.evaluate(
        """() => [...document.querySelectorAll('.shortcut-groups tr')].map((row) =>
            row.cells[1].getBoundingClientRect().width / row.getBoundingClientRect().width)"""
    )
    assert min(shares) >= 0.45, shares
    page.keyboard.press("1")  # a key behind the dialog does nothing
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("i")
    expect(page.get_by_test_id("instructions")).to_be_visible()
    page.keyboard.press("i")
    expect(page.get_by_test_id("instructions")).to_be_hidden()
    assert console_errors == []


def test_box_state_geometry_runs_in_the_browser(open_preview, manager, make_image_task):
    """The pure state module, imported on its own: min size, clamping, resize limits, undo."""
    page = open_preview(manager, make_image_task())
    outcome = page.evaluate(
        """async () => {
            const m = await import('/static/bbox/state.js');
            const s = new m.BoxState({width: 100, height: 80, labels: [{name: 'a'}], minSize: 5});
            const tooSmall = s.add({label: 'a', x: 10, y: 10, w: 4, h: 30});
            const clamped = {...s.add({label: 'a', x: -10.4, y: 70, w: 50, h: 30}).box};
            s.dragResize(clamped.id, {...clamped}, 'e', {x: -100, y: 0});
            const narrowest = s.find(clamped.id).w;
            s.undo();
            const view = m.zoomAt({scale: 2, tx: 10, ty: 20}, 2, {x: 110, y: 120});
            const fixed = m.toImage(view, {x: 110, y: 120});
            return {tooSmall: tooSmall.ok, clamped: {...clamped, id: 0}, narrowest,
                    afterUndo: s.boxes.length, fixed,
                    hit: m.hitTest([{id: 1, x: 0, y: 0, w: 50, h: 50},
                                    {id: 2, x: 10, y: 10, w: 5, h: 5}], {x: 12, y: 12})};
        }"""
    )
    assert outcome["tooSmall"] is False
    assert outcome["clamped"] == {"id": 0, "label": "a", "x": 0, "y": 70, "w": 40, "h": 10}
    assert outcome["narrowest"] == 5
    assert outcome["afterUndo"] == 0
    assert outcome["fixed"] == {"x": 50, "y": 50}
    assert outcome["hit"] == {"id": 2, "part": "body"}


def test_a_box_is_drawn_with_the_keyboard_only_from_the_skip_link(
    open_preview, make_image_task, manager
):
    """Tab reaches the skip link first; it puts the focus in the editor; Enter shows the
    crosshair in the middle, arrows move it, Enter anchors each corner."""
    task = make_image_task(width=400, height=300)
    page = open_preview(manager, task)
    page.keyboard.press("Tab")
    skip = page.get_by_test_id("skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "editor"
    page.keyboard.press("Enter")  # the crosshair, at (200, 150)
    expect(page.locator("[data-editor-root]")).to_have_attribute("data-key-drawing", "point")
    expect(page.locator(".bbox-crosshair")).to_have_count(2)
    for _ in range(5):
        page.keyboard.press("Shift+ArrowLeft")  # 150
    page.keyboard.press("Shift+ArrowUp")  # 140
    page.keyboard.press("Enter")  # first corner (150, 140)
    for _ in range(8):
        page.keyboard.press("Shift+ArrowRight")  # 230
    page.keyboard.press("ArrowRight")  # 231
    for _ in range(4):
        page.keyboard.press("Shift+ArrowDown")  # 180
    expect(page.locator(".bbox-draft")).to_have_count(1)
    page.keyboard.press("Enter")  # opposite corner (231, 180)
    result = json.loads(page.get_by_test_id("result-json").inner_text())
    assert result["boxes"] == [{"label": "person", "x": 150, "y": 140, "w": 81, "h": 40}]
    expect(page.locator("[data-editor-root]")).not_to_have_attribute("data-key-drawing", "point")
    # Esc gives up a drawing under way; nothing is added.
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    assert len(json.loads(page.get_by_test_id("result-json").inner_text())["boxes"]) == 1
