"""One full working session per task kind on the contributor's screen, in a real Chromium.

Each test works a task with mouse and keys, submits it, and checks what was stored. The box test
also times Submit → next task usable (its editor mounted), from the browser's own clock.
"""

import json
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from annotation.models import Annotation
from annotation.services import task_create, task_create_with_media
from labelhub.models import Role
from tests.e2e.test_editor_bbox import drag, to_page
from tests.e2e.test_work_screen import image_ready, log_in, mounted
from tests.factories import make_project, make_user
from tests.media import png_bytes, wav_bytes

pytestmark = pytest.mark.django_db(transaction=True)

# (not under test-results/: pytest-playwright empties that folder at the start of every run)
TIMINGS = Path(tempfile.gettempdir()) / "labelhub-work-timings.json"


def start(page: Page, live_server, username: str, project) -> None:
    log_in(page, live_server, username)
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.get_by_test_id("start").click()
    mounted(page)


def submit_and_time(page: Page) -> float:
    """Press Ctrl+Enter; milliseconds until the next task's editor is mounted and usable."""
    page.evaluate(
        """() => {
            delete document.body.dataset.usableAfter;
            const started = performance.now();
            const done = () => {
                document.body.dataset.usableAfter = String(performance.now() - started);
            };
            document.addEventListener("editor:ready", done, { once: true });
        }"""
    )
    page.keyboard.press("Control+Enter")
    # (a DOM marker, not wait_for_function: the page's CSP forbids the eval that would need)
    page.wait_for_selector("body[data-usable-after]", state="attached")
    return float(page.evaluate("document.body.dataset.usableAfter"))


def test_boxes_drawn_resized_relabelled_and_zoomed_are_stored_in_image_pixels(
    live_server, page: Page, console_errors
):
    ana = make_user("ana")
    schema = {
        "labels": [
            {"name": "person", "colour": "#e6194b", "hotkey": 1},
            {"name": "car", "colour": "#4363d8", "hotkey": 2},
        ],
        "min_size": 4,
        "allow_empty": True,
    }
    project = make_project(schema=schema, members={ana: Role.CONTRIBUTOR})
    for n in range(2):
        task_create_with_media(
            project=project, media_field="image", file=png_bytes(), filename=f"grid{n}.png"
        )
    start(page, live_server, "ana", project)
    image_ready(page)

    drag(page, to_page(page, 50, 50), to_page(page, 150, 120))  # person (50, 50, 100, 70)
    drag(page, to_page(page, 200, 150), to_page(page, 260, 200))  # person (200, 150, 60, 50)
    drag(page, to_page(page, 260, 200), to_page(page, 300, 250))  # resize: SE handle of box 2
    page.keyboard.press("2")  # the selected (second) box becomes a car
    page.get_by_test_id("bbox-stage").focus()
    page.keyboard.press("=")  # zoom in, then draw a third box at the new zoom
    drag(page, to_page(page, 20, 200), to_page(page, 60, 260))  # car (20, 200, 40, 60)

    timings = [submit_and_time(page)]
    expect(page.get_by_test_id("notice")).to_have_text("Submitted.")
    stored = Annotation.objects.get(contributor=ana).result["boxes"]
    expected = [
        {"label": "person", "x": 50, "y": 50, "w": 100, "h": 70},
        {"label": "car", "x": 200, "y": 150, "w": 100, "h": 100},
        {"label": "car", "x": 20, "y": 200, "w": 40, "h": 60},
    ]
    assert len(stored) == 3
    for box, want in zip(stored, expected, strict=True):
        assert box["label"] == want["label"]
        for key in ("x", "y", "w", "h"):
            assert abs(box[key] - want[key]) <= 1, (key, box, want)

    image_ready(page)
    drag(page, to_page(page, 10, 10), to_page(page, 40, 40))
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("no-more-tasks")).to_be_visible()
    TIMINGS.write_text(json.dumps({"submit_to_next_usable_ms": timings}))
    assert timings[0] < 3000  # generous here; the measured figure is reported, not asserted
    assert console_errors == []


def test_responses_ranked_by_keys_are_submitted_in_that_order(
    live_server, page: Page, console_errors
):
    ben = make_user("ben")
    schema = {"mode": "rank", "strength_scale": 3, "criteria": [], "rationale": "optional"}
    project = make_project(kind="ranking", schema=schema, members={ben: Role.CONTRIBUTOR})
    task_create(
        project=project,
        data={
            "prompt": "Which is best?",
            "responses": [
                {"id": "x", "text": "First"},
                {"id": "y", "text": "Second"},
                {"id": "z", "text": "<script>window.hacked = 1</script>Third"},
            ],
        },
    )
    start(page, live_server, "ben", project)
    for key in ("3", "1", "2"):  # the third shown, then the first, then the second
        page.keyboard.press(key)
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("no-more-tasks")).to_be_visible()
    answer = Annotation.objects.get(contributor=ben)
    shown = answer.shown_order  # the order ben saw (shuffled for him), kept with the answer
    assert sorted(shown) == ["x", "y", "z"]
    assert answer.result["order"] == [shown[2], shown[0], shown[1]]
    assert page.evaluate("window.hacked") is None
    assert console_errors == []


def test_audio_is_transcribed_while_playback_is_steered_by_keys(
    live_server, page: Page, console_errors
):
    cleo = make_user("cleo")
    schema = {"media": "audio", "normalisation": ["lowercase"], "segments": False}
    project = make_project(kind="transcription", schema=schema, members={cleo: Role.CONTRIBUTOR})
    task_create_with_media(
        project=project,
        media_field="audio",
        file=wav_bytes(4.0),
        filename="tone.wav",
        data={"draft": "helo world"},
    )
    start(page, live_server, "cleo", project)
    text = page.locator("[data-editor-root] textarea").first
    expect(text).to_have_value("helo world")  # the machine draft to correct
    text.focus()
    page.keyboard.press("Alt+Period")  # faster, while the cursor stays in the text
    page.keyboard.press("Alt+l")  # forward 2 s
    text.fill("hello world")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("no-more-tasks")).to_be_visible()
    assert Annotation.objects.get(contributor=cleo).result["text"] == "hello world"
    assert console_errors == []
